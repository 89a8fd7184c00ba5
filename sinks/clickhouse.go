package sinks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/cspulse/cspulse/tables"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/cenkalti/backoff/v4"
	"go.uber.org/zap"
)

// ClickHouseConfig configures the ClickHouse RowWriter. Its fields are
// required but User, Password, TLS, Cluster and the backoff intervals;
// callers build it from config.ClickHouse (pipeline.ClickHouseConfig),
// which holds the defaults.
type ClickHouseConfig struct {
	// Addr lists host:port of native-protocol endpoints (not HTTP: the HTTP
	// interface of 18.16 rejects the driver's inserts).
	Addr     []string
	Database string
	User     string
	Password string
	// TLS, when set, turns on TLS for the native protocol (ClickHouse's
	// tcp_port_secure) with this configuration.
	TLS         *tls.Config
	DialTimeout time.Duration
	// MaxBatchRows caps the rows of one INSERT; Write splits larger calls.
	MaxBatchRows int
	Retry        RetryConfig
	// Cluster names a cluster of the server's remote_servers: the tables
	// are then Distributed tables over <table>_local on every shard,
	// sharded by cityHash64(shop_id) (see Migrate), and inserts wait
	// until every shard has its rows. Empty: one server.
	Cluster string
	// Replicated: the cluster's shards have replicas; the local tables are
	// ReplicatedReplacingMergeTree (see clusterStatements).
	Replicated bool
}

// RetryConfig bounds the exponential backoff of one INSERT. The caller's
// context bounds it too, whichever ends first.
type RetryConfig struct {
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// MaxElapsed is the total time spent retrying one INSERT before Write
	// gives up and returns the last error.
	MaxElapsed time.Duration
}

// Backoff of one INSERT's retries when RetryConfig leaves it zero. These
// are the writer's own tuning, not configuration keys; the limit of the
// retries (clickhouse.retry_max_elapsed) is required.
const (
	defaultRetryInitial = 200 * time.Millisecond
	defaultRetryMax     = 5 * time.Second
)

// withBackoff returns c with the backoff intervals set when zero.
func (c ClickHouseConfig) withBackoff() ClickHouseConfig {
	if c.Retry.InitialInterval <= 0 {
		c.Retry.InitialInterval = defaultRetryInitial
	}
	if c.Retry.MaxInterval <= 0 {
		c.Retry.MaxInterval = defaultRetryMax
	}
	return c
}

// Validate reports a config that cannot work. The defaults and the
// user-facing ranges are the config package's (clickhouse.*), which
// names the keys; this guards the writer against a caller that filled
// the struct wrongly.
func (c ClickHouseConfig) Validate() error {
	if len(c.Addr) == 0 {
		return errors.New("clickhouse: no addr")
	}
	if c.DialTimeout <= 0 {
		return fmt.Errorf("clickhouse: dial timeout %v ≤ 0", c.DialTimeout)
	}
	if c.MaxBatchRows < 1 {
		return fmt.Errorf("clickhouse: max batch rows %d < 1", c.MaxBatchRows)
	}
	if c.Retry.MaxElapsed <= 0 {
		return fmt.Errorf("clickhouse: retry max elapsed %v ≤ 0 (retries would never end)", c.Retry.MaxElapsed)
	}
	if !identifierRE.MatchString(c.Database) {
		return fmt.Errorf("clickhouse database %q is not a plain identifier", c.Database)
	}
	for _, a := range c.Addr {
		if !strings.Contains(a, ":") {
			return fmt.Errorf("clickhouse addr %q has no port", a)
		}
	}
	if c.Cluster != "" && !identifierRE.MatchString(c.Cluster) {
		return fmt.Errorf("clickhouse cluster %q is not a plain identifier", c.Cluster)
	}
	return nil
}

// ClickHouse is the RowWriter for ClickHouse. It is safe for concurrent use:
// the driver pools connections.
type ClickHouse struct {
	conn driver.Conn
	cfg  ClickHouseConfig
	log  *zap.Logger

	// Failed INSERT attempts, and attempts retried after one (for /metrics).
	insertErrors, insertRetries atomic.Int64
}

// InsertCounts returns how many INSERT attempts failed and how many were
// retried after a failure, since the writer opened.
func (c *ClickHouse) InsertCounts() (errors, retries int64) {
	return c.insertErrors.Load(), c.insertRetries.Load()
}

var _ RowWriter = (*ClickHouse)(nil)

// OpenClickHouse opens a native-protocol connection pool and pings it.
// The connection's default database is left alone and every statement names
// cfg.Database, so the pool works before Migrate has created the database.
func OpenClickHouse(ctx context.Context, cfg ClickHouseConfig, log *zap.Logger) (*ClickHouse, error) {
	if log == nil {
		log = zap.NewNop()
	}
	cfg = cfg.withBackoff()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := &clickhouse.Options{
		Protocol:    clickhouse.Native,
		Addr:        cfg.Addr,
		Auth:        clickhouse.Auth{Username: cfg.User, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		ClientInfo: clickhouse.ClientInfo{Products: []struct{ Name, Version string }{
			{Name: "cspulse", Version: "1"},
		}},
	}
	if cfg.Cluster != "" {
		// An INSERT into a Distributed table returns once every shard
		// has stored its rows, not when they are queued on this server:
		// a checkpoint commits offsets only for rows that are written.
		opts.Settings = clickhouse.Settings{"insert_distributed_sync": 1}
	}
	if cfg.TLS != nil {
		opts.TLS = cfg.TLS.Clone()
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %v: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ping clickhouse %v: %w", cfg.Addr, err)
	}
	return &ClickHouse{conn: conn, cfg: cfg, log: log}, nil
}

// Conn exposes the driver connection for migrations, tests and reports.
func (c *ClickHouse) Conn() driver.Conn { return c.conn }

// Database is the database Write inserts into.
func (c *ClickHouse) Database() string { return c.cfg.Database }

// Close closes the connection pool.
func (c *ClickHouse) Close() error {
	if err := c.conn.Close(); err != nil {
		return fmt.Errorf("close clickhouse: %w", err)
	}
	return nil
}

// Write inserts rows into c.Database().<table>, in INSERTs of at most
// MaxBatchRows rows, each retried on transient errors. On error some chunks
// may already be stored; writing them again is harmless because rows are
// whole and versioned (ReplacingMergeTree keeps one per key).
//
// Each column goes to the driver as one typed slice. Its Go type must be
// the column's: string, time.Time (Date, DateTime), uint8/uint32/uint64,
// int64, []string (Array(String)), pointers for Nullable. The driver
// rejects a string for a number (a permanent error, not retried).
func (c *ClickHouse) Write(ctx context.Context, rows *tables.Rows) error {
	t := rows.Table
	if rows.Len() == 0 {
		return nil
	}
	query, err := c.insertQuery(t)
	if err != nil {
		return err
	}
	n := rows.Len()
	batches := (n + c.cfg.MaxBatchRows - 1) / c.cfg.MaxBatchRows
	for i := range batches {
		start := i * c.cfg.MaxBatchRows
		end := min(start+c.cfg.MaxBatchRows, n)
		if err := c.insertWithRetry(ctx, query, rows, start, end); err != nil {
			return fmt.Errorf("write %s, batch %d of %d (%d rows): %w", t.Name, i+1, batches, end-start, err)
		}
	}
	return nil
}

// insertQuery names every column: 18.16 over the native protocol needs it,
// and it keeps inserts valid after a migration adds a column.
func (c *ClickHouse) insertQuery(t Table) (string, error) {
	if !identifierRE.MatchString(t.Name) {
		return "", fmt.Errorf("write: table name %q is not a plain identifier", t.Name)
	}
	if len(t.Columns) == 0 {
		return "", fmt.Errorf("write %s: no columns", t.Name)
	}
	for _, col := range t.Columns {
		if !identifierRE.MatchString(col) {
			return "", fmt.Errorf("write %s: column name %q is not a plain identifier", t.Name, col)
		}
	}
	return "INSERT INTO " + c.cfg.Database + "." + t.Name + " (" + strings.Join(t.Columns, ", ") + ")", nil
}

// insertWithRetry sends rows [from, to) until they are stored, a
// permanent error occurs, MaxElapsed passes or ctx ends.
func (c *ClickHouse) insertWithRetry(ctx context.Context, query string, rows *tables.Rows, from, to int) error {
	table := rows.Table.Name
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = c.cfg.Retry.InitialInterval
	b.MaxInterval = c.cfg.Retry.MaxInterval
	b.MaxElapsedTime = c.cfg.Retry.MaxElapsed

	attempt := 0
	var lastErr error
	op := func() error {
		attempt++
		lastErr = classifyInsertError(c.insertOnce(ctx, query, rows, from, to))
		if lastErr != nil {
			c.insertErrors.Add(1)
		}
		return lastErr
	}
	notify := func(err error, wait time.Duration) {
		c.insertRetries.Add(1)
		c.log.Warn("clickhouse insert failed, retrying",
			zap.String("table", table), zap.Int("rows", to-from),
			zap.Int("attempt", attempt), zap.Duration("wait", wait), zap.Error(err))
	}
	err := backoff.RetryNotify(op, backoff.WithContext(b, ctx), notify)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && lastErr != nil && !errors.Is(lastErr, ctx.Err()):
		// backoff reports only the context's error; keep the cause.
		return fmt.Errorf("%w (after %d attempts, last error: %w)", err, attempt, lastErr)
	case attempt > 1:
		return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
	}
	return err
}

// insertOnce sends one INSERT of rows [from, to), column by column. A
// column of a type the table's column does not take fails in Append,
// before anything is sent, and is permanent: retrying cannot succeed.
func (c *ClickHouse) insertOnce(ctx context.Context, query string, rows *tables.Rows, from, to int) error {
	batch, err := c.conn.PrepareBatch(ctx, query)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer func() {
		if !batch.IsSent() {
			_ = batch.Abort()
		}
	}()
	for i, name := range rows.Table.Columns {
		if err := batch.Column(i).Append(rows.Column(i, from, to)); err != nil {
			return backoff.Permanent(fmt.Errorf("column %s: %w", name, err))
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// transientCodes are server exceptions that can pass: overload, timeouts,
// shutdown, replication. Anything else the server raises (unknown table,
// type mismatch, syntax) fails the same way on every try.
var transientCodes = map[int32]bool{
	32:   true, // ATTEMPT_TO_READ_AFTER_EOF
	159:  true, // TIMEOUT_EXCEEDED
	164:  true, // READONLY
	202:  true, // TOO_MANY_SIMULTANEOUS_QUERIES
	203:  true, // NO_FREE_CONNECTION
	209:  true, // SOCKET_TIMEOUT
	210:  true, // NETWORK_ERROR
	236:  true, // ABORTED
	241:  true, // MEMORY_LIMIT_EXCEEDED
	242:  true, // TABLE_IS_READ_ONLY
	252:  true, // TOO_MANY_PARTS
	279:  true, // ALL_CONNECTION_TRIES_FAILED
	285:  true, // TOO_FEW_LIVE_REPLICAS
	319:  true, // UNKNOWN_STATUS_OF_INSERT
	394:  true, // QUERY_WAS_CANCELLED (server shutting down)
	425:  true, // SYSTEM_ERROR
	999:  true, // KEEPER_EXCEPTION
	1000: true, // POCO_EXCEPTION (mostly network)
}

// classifyInsertError marks errors that retrying cannot fix as permanent.
// Errors that are not server exceptions are network and pool failures
// (refused, reset, EOF, timeouts) and are retried.
func classifyInsertError(err error) error {
	if err == nil {
		return nil
	}
	var perm *backoff.PermanentError
	if errors.As(err, &perm) {
		return err
	}
	var ex *clickhouse.Exception
	if errors.As(err, &ex) {
		if transientCodes[ex.Code] {
			return err
		}
		return backoff.Permanent(err)
	}
	if errors.Is(err, clickhouse.ErrBatchInvalid) || errors.Is(err, clickhouse.ErrUnsupportedServerRevision) {
		return backoff.Permanent(err)
	}
	return err
}

// IsAuthError is true for ClickHouse's answers to a wrong user or password
// (UNKNOWN_USER, WRONG_PASSWORD, REQUIRED_PASSWORD, AUTHENTICATION_FAILED):
// retrying cannot fix them.
func IsAuthError(err error) bool {
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return false
	}
	switch ex.Code {
	case 192, 193, 194, 516:
		return true
	}
	return false
}
