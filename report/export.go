package report

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ExportRequest is one `cspulse export sessions`: session detail rows of
// cs_sessions (明细) whose local start day is in [From, To].
type ExportRequest struct {
	From, To string // local days, inclusive, at most MaxExportDays apart
	Shops    []string
	Agents   []string // sessions any of them took part in (agent_ids)
	Groups   []string
	Buyers   []string
	Filtered string // "": all; "yes": removed by a reception filter; "no": not
	Sort     string // start (oldest first), messages (most first), first_response (slowest first, none last)
	Format   string // csv or jsonl
}

// ExportSorts and ExportFormats are the accepted --sort and --format values.
var (
	ExportSorts   = []string{"start", "messages", "first_response"}
	ExportFormats = []string{"csv", "jsonl"}
)

// ExportColumns are the exported fields, in order.
var ExportColumns = []string{"shop_id", "session_id", "buyer_id", "origin", "channel", "day", "started_at", "ended_at",
	"duration_ms", "close_reason", "agent_ids", "last_agent_id", "group_id", "buyer_msgs", "agent_msgs", "robot_msgs",
	"queued", "abandoned", "queue_wait_ms", "first_response_ms", "picked", "received", "rating", "filtered_by"}

// Days checks the range and returns how many days it covers.
func (r *ExportRequest) Days() (int, error) {
	from, err := time.Parse("2006-01-02", r.From)
	if err != nil {
		return 0, fmt.Errorf("--from %q is not a day: want YYYY-MM-DD", r.From)
	}
	to, err := time.Parse("2006-01-02", r.To)
	if err != nil {
		return 0, fmt.Errorf("--to %q is not a day: want YYYY-MM-DD", r.To)
	}
	if to.Before(from) {
		return 0, fmt.Errorf("--from %s is after --to %s", r.From, r.To)
	}
	days := int(to.Sub(from).Hours()/24) + 1
	if days > MaxExportDays {
		return days, fmt.Errorf("--from %s --to %s covers %d days: one export covers at most %d; narrow --from/--to and export in parts",
			r.From, r.To, days, MaxExportDays)
	}
	return days, nil
}

// SQL is the export's query. first_response_ms < 0 (the -1 of "no agent
// answered") and NULL are alike NULL, rating 0 ("not rated") and NULL
// alike NULL, so it reads both the sentinel and the Nullable columns.
func (r *ExportRequest) SQL(db string) (string, error) {
	if _, err := r.Days(); err != nil {
		return "", err
	}
	where := []string{fmt.Sprintf("day BETWEEN '%s' AND '%s'", r.From, r.To)}
	if len(r.Shops) > 0 {
		where = append(where, inList("shop_id", r.Shops))
	}
	if len(r.Agents) > 0 {
		q := make([]string, len(r.Agents))
		for i, a := range r.Agents {
			q[i] = Quote(a)
		}
		where = append(where, fmt.Sprintf("hasAny(agent_ids, [%s])", strings.Join(q, ", ")))
	}
	if len(r.Groups) > 0 {
		where = append(where, inList("group_id", r.Groups))
	}
	if len(r.Buyers) > 0 {
		where = append(where, inList("buyer_id", r.Buyers))
	}
	switch r.Filtered {
	case "", "all":
	case "yes":
		where = append(where, "filtered_by != ''")
	case "no":
		where = append(where, "filtered_by = ''")
	default:
		return "", fmt.Errorf("--filtered %q: want yes, no or all", r.Filtered)
	}
	var order string
	switch r.Sort {
	case "", "start":
		order = "started_at_ms, shop_id, session_id"
	case "messages":
		order = "buyer_msgs + agent_msgs + robot_msgs DESC, started_at_ms, shop_id, session_id"
	case "first_response":
		order = "first_response DESC NULLS LAST, started_at_ms, shop_id, session_id"
	default:
		return "", fmt.Errorf("--sort %q: want start, messages or first_response", r.Sort)
	}
	return fmt.Sprintf(`SELECT
    shop_id, session_id, buyer_id, origin, channel, toString(day) AS day_s,
    started_at_ms, ended_at_ms, duration_ms, close_reason, agent_ids, last_agent_id, group_id,
    toUInt32(buyer_msgs) AS buyer_n, toUInt32(agent_msgs) AS agent_n, toUInt32(robot_msgs) AS robot_n,
    toUInt8(queued) AS queued_f, toUInt8(abandoned) AS abandoned_f, toInt64(queue_wait_ms) AS queue_wait,
    if(first_response_ms < 0, NULL, toInt64(first_response_ms)) AS first_response,
    toUInt8(picked) AS picked_f, toUInt8(received) AS received_f,
    if(rating = 0, NULL, toUInt8(rating)) AS rating_score,
    filtered_by
FROM %s.cs_sessions FINAL
WHERE %s
ORDER BY %s`, db, strings.Join(where, "\n  AND "), order), nil
}

// session is one exported row; Export reuses one for every row.
type session struct {
	shop, id, buyer, origin, channel, day string
	startMs, endMs, durationMs            int64
	closeReason                           string
	agents                                []string
	lastAgent, group                      string
	buyerMsgs, agentMsgs, robotMsgs       uint32
	queued, abandoned                     uint8
	queueWait                             int64
	firstResponse                         *int64
	picked, received                      uint8
	rating                                *uint8
	filteredBy                            string
}

func (s *session) dest() []any {
	return []any{&s.shop, &s.id, &s.buyer, &s.origin, &s.channel, &s.day, &s.startMs, &s.endMs, &s.durationMs,
		&s.closeReason, &s.agents, &s.lastAgent, &s.group, &s.buyerMsgs, &s.agentMsgs, &s.robotMsgs,
		&s.queued, &s.abandoned, &s.queueWait, &s.firstResponse, &s.picked, &s.received, &s.rating, &s.filteredBy}
}

func msTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// ExportBlockRows is the block size an export asks ClickHouse for.
const ExportBlockRows = 8192

// Export streams the sessions of r to w row by row, as ClickHouse sends
// them (no slice of all rows: memory does not grow with the row count).
// each, when set, is called after every row with the count so far. It
// returns the number of rows written.
func Export(ctx context.Context, conn driver.Conn, db string, r ExportRequest, w io.Writer, each func(n int)) (int, error) {
	if r.Format == "" {
		r.Format = "csv"
	}
	if r.Format != "csv" && r.Format != "jsonl" {
		return 0, fmt.Errorf("--format %q: want csv or jsonl", r.Format)
	}
	q, err := r.SQL(db)
	if err != nil {
		return 0, err
	}
	// Blocks of ExportBlockRows rows, at most two read ahead: what the
	// export holds at any time, whatever the range.
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_block_size": ExportBlockRows}),
		clickhouse.WithBlockBufferSize(2))
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, q)
	}
	defer rows.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	var cw *csv.Writer
	var enc *json.Encoder
	rec := make([]string, len(ExportColumns))
	if r.Format == "csv" {
		cw = csv.NewWriter(bw)
		if err := cw.Write(ExportColumns); err != nil {
			return 0, err
		}
	} else {
		enc = json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
	}
	var s session
	dest := s.dest()
	n := 0
	for rows.Next() {
		s.firstResponse, s.rating = nil, nil
		if err := rows.Scan(dest...); err != nil {
			return n, err
		}
		if cw != nil {
			s.csv(rec)
			err = cw.Write(rec)
		} else {
			err = enc.Encode(s.json())
		}
		if err != nil {
			return n, err
		}
		n++
		if each != nil {
			each(n)
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

func (s *session) csv(rec []string) {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	fr, rt := "", ""
	if s.firstResponse != nil {
		fr = i(*s.firstResponse)
	}
	if s.rating != nil {
		rt = u(uint64(*s.rating))
	}
	copy(rec, []string{s.shop, s.id, s.buyer, s.origin, s.channel, s.day, msTime(s.startMs), msTime(s.endMs),
		i(s.durationMs), s.closeReason, strings.Join(s.agents, "|"), s.lastAgent, s.group,
		u(uint64(s.buyerMsgs)), u(uint64(s.agentMsgs)), u(uint64(s.robotMsgs)), u(uint64(s.queued)), u(uint64(s.abandoned)),
		i(s.queueWait), fr, u(uint64(s.picked)), u(uint64(s.received)), rt, s.filteredBy})
}

// exportJSON is one JSON line; null first_response_ms / rating: none.
type exportJSON struct {
	Shop          string   `json:"shop_id"`
	Session       string   `json:"session_id"`
	Buyer         string   `json:"buyer_id"`
	Origin        string   `json:"origin"`
	Channel       string   `json:"channel"`
	Day           string   `json:"day"`
	StartedAt     string   `json:"started_at"`
	EndedAt       string   `json:"ended_at"`
	DurationMs    int64    `json:"duration_ms"`
	CloseReason   string   `json:"close_reason"`
	Agents        []string `json:"agent_ids"`
	LastAgent     string   `json:"last_agent_id"`
	Group         string   `json:"group_id"`
	BuyerMsgs     uint32   `json:"buyer_msgs"`
	AgentMsgs     uint32   `json:"agent_msgs"`
	RobotMsgs     uint32   `json:"robot_msgs"`
	Queued        uint8    `json:"queued"`
	Abandoned     uint8    `json:"abandoned"`
	QueueWaitMs   int64    `json:"queue_wait_ms"`
	FirstResponse *int64   `json:"first_response_ms"`
	Picked        uint8    `json:"picked"`
	Received      uint8    `json:"received"`
	Rating        *uint8   `json:"rating"`
	FilteredBy    string   `json:"filtered_by"`
}

func (s *session) json() *exportJSON {
	agents := s.agents
	if agents == nil {
		agents = []string{}
	}
	return &exportJSON{s.shop, s.id, s.buyer, s.origin, s.channel, s.day, msTime(s.startMs), msTime(s.endMs), s.durationMs,
		s.closeReason, agents, s.lastAgent, s.group, s.buyerMsgs, s.agentMsgs, s.robotMsgs, s.queued, s.abandoned,
		s.queueWait, s.firstResponse, s.picked, s.received, s.rating, s.filteredBy}
}
