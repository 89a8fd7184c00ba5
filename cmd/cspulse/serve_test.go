package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cspulse/cspulse/generator"
	"github.com/cspulse/cspulse/internal/pipetest"
)

// TestServeCommand: `cspulse serve` serves the embedded page and its JSON
// from the database of --database, and stops on SIGTERM. (The figures are
// checked against the documented SQL in package web.)
func TestServeCommand(t *testing.T) {
	gen := generator.DefaultConfig()
	gen.Seed = 5
	gen.Shops = 2
	gen.AgentsPerShop = 2
	gen.SessionsPerShopDay = 60
	addr, db := pipetest.GeneratedDay(t, gen)
	listen := freeAddr(t)
	cmd, out := start(t, "serve", "--listen", listen, "--clickhouse", addr, "--database", db,
		"--time.shop_zones", "shop-0002=America/New_York")
	base := "http://" + listen
	get := func(path string) (int, string) {
		t.Helper()
		var err error
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			var resp *http.Response
			if resp, err = http.Get(base + path); err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp.StatusCode, string(body)
			}
		}
		t.Fatalf("GET %s: %v\n%s", path, err, out)
		return 0, ""
	}
	if code, body := get("/"); code != 200 || !strings.Contains(body, "/static/app.js") {
		t.Fatalf("GET /: %d\n%s", code, body)
	}
	if code, body := get("/static/app.js"); code != 200 || !strings.Contains(body, "/api/monitor") {
		t.Fatalf("GET /static/app.js: %d", code)
	}
	code, body := get("/api/monitor?day=2026-11-02")
	var mon struct {
		Shops []struct {
			Shop, Day, Zone string
			Values          map[string]*float64
		}
	}
	if err := json.Unmarshal([]byte(body), &mon); code != 200 || err != nil || len(mon.Shops) != 2 {
		t.Fatalf("GET /api/monitor: %d %v\n%s", code, err, body)
	}
	if s := mon.Shops[1]; s.Shop != "shop-0002" || s.Zone != "America/New_York" || s.Values["consult_sessions"] == nil || *s.Values["consult_sessions"] == 0 {
		t.Errorf("monitor row %+v", s)
	}
	if code, body := get("/api/hourly?shop=shop-0001&day=2026-11-02"); code != 200 || !strings.Contains(body, `"hour":"09:00"`) {
		t.Errorf("GET /api/hourly: %d\n%s", code, body)
	}
	if code, _ := get("/api/robots?shop=shop-0001&by=nope"); code != 400 {
		t.Errorf("GET /api/robots?by=nope: %d, want 400", code)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := waitExit(t, cmd, 10*time.Second); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, out)
	}
}
