package pipeline

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/zap/zaptest"

	"github.com/cspulse/cspulse/config"
	"github.com/cspulse/cspulse/internal/broker"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestPrepareKafkaWaitsForTheBroker: a broker that comes up after cspulse
// is waited for (start in any order), and fresh topics are created.
func TestPrepareKafkaWaitsForTheBroker(t *testing.T) {
	addr := freePort(t)
	cfg := config.Defaults()
	cfg.Kafka.Partitions = 3
	go func() {
		time.Sleep(1500 * time.Millisecond)
		b, err := broker.Start(broker.Options{Listen: addr, Partitions: 1})
		if err != nil {
			t.Error(err)
			return
		}
		t.Cleanup(b.Close)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := PrepareKafka(ctx, &cfg, []string{addr}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("partitions %d, want 3", n)
	}
}

// TestPrepareKafkaGivesUp: without a broker it gives up when ctx
// (run.startup_timeout) ends, with the last error.
func TestPrepareKafkaGivesUp(t *testing.T) {
	cfg := config.Defaults()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := PrepareKafka(ctx, &cfg, []string{freePort(t)}, zaptest.NewLogger(t))
	if err == nil || !strings.Contains(err.Error(), "run.startup_timeout") {
		t.Fatalf("err = %v, want a give-up naming run.startup_timeout", err)
	}
}

// TestPrepareKafkaAuthFailure: a wrong SASL password ends the start at
// once with one clear error, not a hang or "create topics: EOF".
func TestPrepareKafkaAuthFailure(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("PLAIN", "admin", "right"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range []struct {
		name, mech, pass, want string
	}{
		{"wrong password", "plain", "wrong", "kafka authentication failed"},
		{"wrong mechanism", "scram-sha-256", "right", "kafka authentication failed"},
		{"no SASL", "none", "", "requires SASL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults()
			cfg.Kafka.SASL = config.SASL{Mechanism: tt.mech, User: "admin", Password: config.Secret(tt.pass)}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			_, err := PrepareKafka(ctx, &cfg, c.ListenAddrs(), zaptest.NewLogger(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.pass != "" && strings.Contains(err.Error(), tt.pass) {
				t.Errorf("the error shows the password: %v", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %v, want a prompt error", took)
			}
		})
	}
	t.Run("right password", func(t *testing.T) {
		cfg := config.Defaults()
		cfg.Kafka.SASL = config.SASL{Mechanism: "plain", User: "admin", Password: config.Secret("right")}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := PrepareKafka(ctx, &cfg, c.ListenAddrs(), zaptest.NewLogger(t)); err != nil {
			t.Fatal(err)
		}
	})
}
