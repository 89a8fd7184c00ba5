package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/cspulse/cspulse/internal/testenv"
	"github.com/cspulse/cspulse/schemas"
)

// alertsTopic is the alerts topic of a run's consumer group: runArgs gives
// each group its own, so that two runs on one broker can be compared.
func alertsTopic(group string) string { return "cs.alerts." + group }

// readAlerts reads every committed record of topic at addr as an alerting
// system would: with a second, independent Kafka client (segmentio's
// kafka-go) and isolation level read_committed. Each value must decode
// into the documented record with nothing left over.
func readAlerts(t *testing.T, addr, topic string) []schemas.Alert {
	t.Helper()
	conn, err := kafka.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("kafka-go dial %s: %v", addr, err)
	}
	parts, err := conn.ReadPartitions(topic)
	_ = conn.Close()
	if err != nil {
		t.Fatalf("kafka-go partitions of %s: %v", topic, err)
	}
	var out []schemas.Alert
	for _, p := range parts {
		out = append(out, readPartition(t, addr, topic, p.ID)...)
	}
	return out
}

func readPartition(t *testing.T, addr, topic string, partition int) []schemas.Alert {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := kafka.DialLeader(ctx, "tcp", addr, topic, partition)
	if err != nil {
		t.Fatalf("kafka-go leader of %s/%d: %v", topic, partition, err)
	}
	end, err := conn.ReadLastOffset()
	_ = conn.Close()
	if err != nil {
		t.Fatalf("kafka-go end offset of %s/%d: %v", topic, partition, err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: partition,
		IsolationLevel: kafka.ReadCommitted, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	var out []schemas.Alert
	for end > 0 {
		// The last offsets may be transaction markers, which a consumer
		// never sees: a quiet moment ends the partition.
		rctx, rcancel := context.WithTimeout(ctx, 3*time.Second)
		m, err := r.ReadMessage(rctx)
		rcancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("kafka-go read %s/%d: %v", topic, partition, err)
		}
		if controlRecord(m) {
			continue
		}
		var a schemas.Alert
		dec := json.NewDecoder(bytes.NewReader(m.Value))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("alert %s: %v", m.Value, err)
		}
		if string(m.Key) != a.ShopID {
			t.Errorf("alert key %q, shop_id %q", m.Key, a.ShopID)
		}
		out = append(out, a)
		if m.Offset+1 >= end {
			break
		}
	}
	return out
}

// controlRecord: kafka-go (0.4.51) hands a transaction's commit or abort
// marker to the application as a message (segmentio/kafka-go#1332,
// #1446): its key is a version and a type, four bytes, 0 0 0 0|1, which no
// alert's key (a shop id) can be. Nor does it drop the records of aborted
// transactions: such a consumer must deduplicate by alert_id
// (docs/alerts.md).
func controlRecord(m kafka.Message) bool {
	return len(m.Key) == 4 && m.Key[0] == 0 && m.Key[1] == 0 && m.Key[2] == 0 && m.Key[3] <= 1
}

// kcatAlerts reads the alert ids of topic at addr with kcat (librdkafka),
// whose read_committed drops aborted transactions, as the Java client's
// does.
func kcatAlerts(t *testing.T, kcat, addr, topic string) []string {
	t.Helper()
	out, err := exec.Command(kcat, "-C", "-b", addr, "-t", topic, "-X", "isolation.level=read_committed",
		"-o", "beginning", "-e", "-q", "-f", "%s\n").Output()
	if err != nil {
		t.Fatalf("kcat %s: %v", topic, err)
	}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var a schemas.Alert
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("alert %s: %v", line, err)
		}
		ids = append(ids, a.AlertID)
	}
	slices.Sort(ids)
	return ids
}

// checkAlertsOnce compares the alerts a faulty run wrote to Kafka with the
// clean run's: the same alert ids, each exactly once, and the clean run's
// are those of its cs_alerts table.
func checkAlertsOnce(t *testing.T, kcat, chAddr, cleanDB, cleanAddr, cleanGroup, faultyAddr, faultyGroup string) {
	t.Helper()
	want := kcatAlerts(t, kcat, cleanAddr, alertsTopic(cleanGroup))
	got := kcatAlerts(t, kcat, faultyAddr, alertsTopic(faultyGroup))
	table := queryLines(t, chAddr, cleanDB, "SELECT alert_id FROM cs_alerts FINAL ORDER BY alert_id")
	t.Logf("alerts (read_committed): clean %d, after faults %d; cs_alerts %d", len(want), len(got), len(table))
	if len(want) == 0 {
		t.Error("the clean run raised no alert; the comparison would prove nothing")
	}
	if !slices.Equal(want, table) {
		t.Errorf("the clean run's alerts topic and cs_alerts differ:\n topic %v\n table %v", want, table)
	}
	if !slices.Equal(got, want) {
		t.Errorf("alerts after faults (each must appear once):\n got  %v\n want %v", got, want)
	}
}

// TestAlertsReachAnAlertingSystem: a bounded run over the generated day
// (shop-0003 slips from 10:00 to 12:00) raises alerts that an outside
// consumer reads with read_committed, each once, equal to cs_alerts; the
// slipping shop's average response breaches at 11:00 local and recovers.
func TestAlertsReachAnAlertingSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	chAddr := testenv.ClickHouseAddr(t)
	kcat := testenv.Kcat(t)
	db, addr := cleanRun(t, kcat, chAddr)
	alerts := readAlerts(t, addr, alertsTopic("clean"))
	seen := map[string]bool{}
	var slip []string
	for _, a := range alerts {
		if seen[a.AlertID] {
			t.Errorf("alert %s read twice", a.AlertID)
		}
		seen[a.AlertID] = true
		if a.ShopID == "shop-0003" && a.Rule == "shop_avg_response" {
			slip = append(slip, a.State+" "+a.EvaluatedAt.In(shanghai(t)).Format("15:04"))
		}
		if math.IsNaN(a.Value) || a.Denominator < 20 || a.WindowEnd != a.EvaluatedAt || !a.WindowStart.Before(a.WindowEnd) {
			t.Errorf("alert %+v", a)
		}
	}
	if len(slip) < 2 || slip[0] != "breach 11:00" || slip[1][:9] != "recovered" {
		t.Errorf("shop-0003 shop_avg_response alerts %v, want a breach at 11:00 local and then a recovery", slip)
	}
	table := queryLines(t, chAddr, db, "SELECT concat(alert_id, '|', state) FROM cs_alerts FINAL ORDER BY alert_id")
	var topic []string
	for _, a := range alerts {
		topic = append(topic, a.AlertID+"|"+a.State)
	}
	slices.Sort(topic)
	if !slices.Equal(topic, table) {
		t.Errorf("cs.alerts and cs_alerts differ:\n topic %v\n table %v", topic, table)
	}
}

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
