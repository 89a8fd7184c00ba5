package sinks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"go.uber.org/zap"
)

// retentionPartitionKey is the PARTITION BY of every table that retention
// may prune: one partition per shop-local month (deploy/clickhouse
// migrations). ClickHouse 18.16 has no TTL, so old data goes by dropping
// whole partitions.
const retentionPartitionKey = "toYYYYMM(day)"

// DroppedPartition is one partition that retention dropped (or, in a dry
// run, would drop).
type DroppedPartition struct {
	Node      string // server address; the writer's own with one server
	Table     string
	Partition string // YYYYMM
	Rows      uint64
}

// RetentionCutoff is the first month (YYYYMM) that keeping months whole
// months keeps at now: the current month and the months before it.
// months = 3 on 2026-12-04 keeps 202609 … 202612 and drops 202608 and
// older, so at least months complete months are always there.
func RetentionCutoff(now time.Time, months int) int {
	y, m, _ := now.UTC().Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -months, 0)
	return first.Year()*100 + int(first.Month())
}

// DropOldPartitions drops, for each table of keep with a value > 0, the
// monthly partitions older than RetentionCutoff(now, keep[table]). With a
// cluster it does so on every server, on the <table>_local tables. With
// dryRun it drops nothing and returns what it would drop. Tables whose
// partition key is not toYYYYMM(day) are an error, not a guess.
func (c *ClickHouse) DropOldPartitions(ctx context.Context, keep map[string]int, now time.Time, dryRun bool) ([]DroppedPartition, error) {
	tables := make([]string, 0, len(keep))
	for t, months := range keep {
		if !identifierRE.MatchString(t) {
			return nil, fmt.Errorf("retention: table name %q is not a plain identifier", t)
		}
		if months < 0 {
			return nil, fmt.Errorf("retention: %s: %d months", t, months)
		}
		if months > 0 {
			tables = append(tables, t)
		}
	}
	slices.Sort(tables)
	if len(tables) == 0 {
		return nil, nil
	}
	if c.cfg.Cluster == "" {
		return dropOldPartitions(ctx, c.conn, c.cfg.Addr[0], c.cfg.Database, tables, "", keep, now, dryRun, c.log)
	}
	nodes, err := ClusterNodes(ctx, c.conn, c.cfg.Cluster)
	if err != nil {
		return nil, fmt.Errorf("retention: clickhouse.cluster: %w", err)
	}
	var all []DroppedPartition
	for _, n := range nodes {
		cfg := c.cfg
		cfg.Addr = []string{n.Addr}
		node, err := OpenClickHouse(ctx, cfg, c.log)
		if err != nil {
			return all, fmt.Errorf("retention on shard %d: %w", n.Shard, err)
		}
		dropped, err := dropOldPartitions(ctx, node.conn, n.Addr, c.cfg.Database, tables, LocalTableSuffix, keep, now, dryRun, c.log)
		_ = node.Close()
		all = append(all, dropped...)
		if err != nil {
			return all, fmt.Errorf("retention on shard %d (%s): %w", n.Shard, n.Addr, err)
		}
	}
	return all, nil
}

func dropOldPartitions(ctx context.Context, conn driver.Conn, node, database string, tables []string, suffix string,
	keep map[string]int, now time.Time, dryRun bool, log *zap.Logger) ([]DroppedPartition, error) {
	var out []DroppedPartition
	for _, table := range tables {
		name := table + suffix
		var key string
		err := conn.QueryRow(ctx, "SELECT partition_key FROM system.tables WHERE database = ? AND name = ?", database, name).Scan(&key)
		if errors.Is(err, sql.ErrNoRows) {
			return out, fmt.Errorf("retention: table %s.%s does not exist (cspulse run creates it)", database, name)
		}
		if err != nil {
			return out, fmt.Errorf("retention: table %s.%s: %w", database, name, err)
		}
		if key != retentionPartitionKey {
			return out, fmt.Errorf("retention: table %s.%s is partitioned by %q, not %s: its partitions are not months", database, name, key, retentionPartitionKey)
		}
		cutoff := RetentionCutoff(now, keep[table])
		rows, err := conn.Query(ctx, "SELECT partition_id, sum(rows) FROM system.parts WHERE database = ? AND table = ? AND active GROUP BY partition_id ORDER BY partition_id",
			database, name)
		if err != nil {
			return out, fmt.Errorf("retention: parts of %s.%s: %w", database, name, err)
		}
		var old []DroppedPartition
		for rows.Next() {
			var p DroppedPartition
			if err := rows.Scan(&p.Partition, &p.Rows); err != nil {
				rows.Close()
				return out, fmt.Errorf("retention: parts of %s.%s: %w", database, name, err)
			}
			month, err := strconv.Atoi(p.Partition)
			if err != nil || len(p.Partition) != 6 {
				rows.Close()
				return out, fmt.Errorf("retention: %s.%s has partition %q, not YYYYMM", database, name, p.Partition)
			}
			if month < cutoff {
				p.Node, p.Table = node, name
				old = append(old, p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, fmt.Errorf("retention: parts of %s.%s: %w", database, name, err)
		}
		for _, p := range old {
			if !dryRun {
				// Partition ids of toYYYYMM are digits only: safe to quote.
				if err := conn.Exec(ctx, "ALTER TABLE "+database+"."+name+" DROP PARTITION ID '"+p.Partition+"'"); err != nil {
					return out, fmt.Errorf("retention: drop partition %s of %s.%s: %w", p.Partition, database, name, err)
				}
				log.Info("dropped partition", zap.String("node", node), zap.String("table", name),
					zap.String("partition", p.Partition), zap.Uint64("rows", p.Rows))
			}
			out = append(out, p)
		}
	}
	return out, nil
}
