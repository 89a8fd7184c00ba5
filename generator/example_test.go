package generator_test

import (
	"context"
	"fmt"

	"github.com/cspulse/cspulse/generator"
)

func ExampleGenerate() {
	cfg := generator.DefaultConfig()
	cfg.Shops, cfg.SessionsPerShopDay = 1, 20
	first := true
	stats, err := generator.Generate(context.Background(), cfg, func(r *generator.Record) error {
		if first { // r is reused after the callback: copy what you keep
			fmt.Printf("%s %s %s\n", r.Topic, r.Key, r.Value)
			first = false
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(stats.Sessions, "sessions,", stats.Records, "records")
	// Output:
	// cs.sessions shop-0001 {"event_id":"shop-0001-0000000001","shop_id":"shop-0001","ts":1793551569755,"type":"started","session_id":"shop-0001-s1","buyer_id":"shop-0001-b1","origin":"buyer","channel":"app"}
	// 16 sessions, 207 records
}
