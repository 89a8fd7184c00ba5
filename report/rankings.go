package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Rankings is the table of the agents' performance ranking (绩效排名,
// SPEC §4.3), written by the pipeline with its ranks already computed
// (ClickHouse 18.16 has no window functions): the read side only selects.
const Rankings = "cs_agent_rankings"

// RankingMetric is one figure of a ranking. Its columns in
// cs_agent_rankings are Name, Name_rank, Name_mean and Name_rank_change.
type RankingMetric struct {
	Name       string
	Title      string
	Definition string
	Kind       Kind
}

// RankingMetrics are the ranking's four figures, in the table's column
// order. The two rates are report metrics (same definition, one agent's
// day); the two counts are the agent's own, which no report metric is.
var RankingMetrics = []RankingMetric{
	{"received_buyers", "received buyers", "接待人数: distinct buyers with whom the agent had a reception (a picked assignment the reception filters keep) that day, in this scope", Count},
	rankingRate("reply_3min_rate_session"),
	rankingRate("satisfaction_rate"),
	{"received_sessions", "received", "人工已接待量 (agent): sessions in which the agent had a reception that day, in this scope", Count},
}

func rankingRate(name string) RankingMetric {
	m, ok := Lookup(name)
	if !ok {
		panic("report: ranking metric " + name + " is not in Metrics")
	}
	return RankingMetric{m.Name, m.Title, m.Definition + "; the agent's day", m.Kind}
}

// The definitions of a ranked figure's rank, rank change and mean (SPEC
// §4.3), shown with every metric of a ranking.
const (
	RankDefinition = "rank among the agents with a reception that day in this scope (the shop, or one group): " +
		"1 = best (most buyers or sessions, highest rate); equal values share the smallest rank and are listed by agent id; " +
		"a rate with nothing to measure has no rank"
	RankChangeDefinition = "places moved since the previous day's final rank: ▲ up, ▼ down, = same; " +
		"empty when the agent had no rank the previous day"
	MeanDefinition = "mean of the agent values over the agents with a reception that day in this scope"
)

// LookupRanking returns the ranking metric called name.
func LookupRanking(name string) (RankingMetric, bool) {
	for _, m := range RankingMetrics {
		if m.Name == name {
			return m, true
		}
	}
	return RankingMetric{}, false
}

// RankingRequest is one ranking: a shop's (Group "") or one group's, on
// one shop-local day.
type RankingRequest struct {
	Shop  string
	Group string // "": the shop's ranking (scope shop); else scope group
	Day   string // YYYY-MM-DD
	Sort  string // a ranking metric: rows by its rank, then agent id (default the first)
}

// Scope is the request's scope column: shop or group.
func (r RankingRequest) Scope() string {
	if r.Group == "" {
		return "shop"
	}
	return "group"
}

// Check reports a mistake in r before any query.
func (r RankingRequest) Check() error {
	if r.Shop == "" {
		return fmt.Errorf("--shop: a ranking is one shop's; give --shop ID")
	}
	if r.Day != "" {
		if err := ParseDay(r.Day); err != nil {
			return fmt.Errorf("--day %w", err)
		}
	}
	if r.Sort != "" {
		if _, ok := LookupRanking(r.Sort); !ok {
			return fmt.Errorf("--sort %q: want one of %s", r.Sort, strings.Join(RankingNames(), ", "))
		}
	}
	return nil
}

// RankingNames lists the ranking metrics in column order.
func RankingNames() []string {
	out := make([]string, len(RankingMetrics))
	for i, m := range RankingMetrics {
		out[i] = m.Name
	}
	return out
}

// RankingColumns are the columns of the ranking query after agent_id: per
// metric its value, rank, rank change and mean.
func RankingColumns() []string {
	var out []string
	for _, m := range RankingMetrics {
		out = append(out, m.Name, m.Name+"_rank", m.Name+"_rank_change", m.Name+"_mean")
	}
	return out
}

// RankingSQL is the query of r, the shape of docs/queries.md's
// ranking_shop_day and ranking_group_day: the ranked agents' rows of
// that day and scope, collapsed with FINAL. db "" leaves the table
// unqualified (the connection's database).
func RankingSQL(db string, r RankingRequest) string {
	sort := r.Sort
	if _, ok := LookupRanking(sort); !ok {
		sort = RankingMetrics[0].Name // Check names an unknown one; never SQL from it
	}
	cols := RankingColumns()
	var b strings.Builder
	b.WriteString("SELECT\n    agent_id")
	for i := 0; i < len(cols); i += 4 {
		fmt.Fprintf(&b, ",\n    %s", strings.Join(cols[i:i+4], ", "))
	}
	fmt.Fprintf(&b, "\nFROM %s FINAL\nWHERE shop_id = %s\n  AND day = %s\n  AND scope = '%s'\n  AND group_id = %s\n  AND ranked = 1\nORDER BY %s_rank, agent_id",
		qualified(db, Rankings), Quote(r.Shop), Quote(r.Day), r.Scope(), Quote(r.Group), sort)
	return b.String()
}

func qualified(db, table string) string {
	if db == "" {
		return table
	}
	return db + "." + table
}

// RankedCell is one metric of one agent: value, rank and rank change
// (each Null when absent), as the table holds them.
type RankedCell struct {
	Value, Rank, Change Value
}

// RankingRow is one ranked agent.
type RankingRow struct {
	Agent string
	Cells []RankedCell // one per RankingMetrics
}

// Ranking is one ranking as read.
type Ranking struct {
	RankingRequest
	Rows  []RankingRow
	Means []Value // one per RankingMetrics; Null when no agent is ranked
	SQL   string
}

// ReadRanking reads r (r.Day must be set; see LatestRankingDay).
func ReadRanking(ctx context.Context, conn driver.Conn, db string, r RankingRequest) (*Ranking, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if r.Day == "" {
		return nil, fmt.Errorf("ranking of %s: no day", r.Shop)
	}
	out := &Ranking{RankingRequest: r, SQL: RankingSQL(db, r)}
	out.Means = make([]Value, len(RankingMetrics))
	for i := range out.Means {
		out.Means[i] = Value{Null: true, IsNum: true}
	}
	err := scanQuery(ctx, conn, out.SQL, func(vals []Value, _ []string) {
		row := RankingRow{Agent: vals[0].Text}
		for i := range RankingMetrics {
			v := vals[1+4*i : 5+4*i]
			row.Cells = append(row.Cells, RankedCell{v[0], v[1], v[2]})
			// The mean is the scope's, on every row alike.
			out.Means[i] = v[3]
		}
		out.Rows = append(out.Rows, row)
	})
	if err != nil {
		return nil, fmt.Errorf("ranking of %s on %s: %w", r.Shop, r.Day, err)
	}
	return out, nil
}

// LatestRankingDay is the shop's latest day in cs_agent_rankings (its day
// so far), "" when it has none.
func LatestRankingDay(ctx context.Context, conn driver.Conn, db, shop string) (string, error) {
	var n uint64
	var d time.Time
	q := fmt.Sprintf("SELECT count(), max(day) FROM %s WHERE shop_id = %s", qualified(db, Rankings), Quote(shop))
	if err := conn.QueryRow(ctx, q).Scan(&n, &d); err != nil {
		return "", fmt.Errorf("latest ranking day of %s: %w", shop, err)
	}
	if n == 0 {
		return "", nil
	}
	return d.Format("2006-01-02"), nil
}

// PreviousDay is the local day before day (YYYY-MM-DD).
func PreviousDay(day string) (string, error) {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return "", fmt.Errorf("%q is not a day: want YYYY-MM-DD", day)
	}
	return t.AddDate(0, 0, -1).Format("2006-01-02"), nil
}

// RankingGroups lists the groups of the shop with a ranked agent on day.
func RankingGroups(ctx context.Context, conn driver.Conn, db, shop, day string) ([]string, error) {
	q := fmt.Sprintf("SELECT DISTINCT group_id FROM %s FINAL WHERE shop_id = %s AND day = %s AND scope = 'group' AND ranked = 1 ORDER BY group_id",
		qualified(db, Rankings), Quote(shop), Quote(day))
	groups := []string{}
	err := scanQuery(ctx, conn, q, func(vals []Value, _ []string) { groups = append(groups, vals[0].Text) })
	if err != nil {
		return nil, fmt.Errorf("groups of %s on %s: %w", shop, day, err)
	}
	return groups, nil
}
