package logs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/tabletest"
)

// queryEvents are the events TestQuery's queries read, oldest first.
var queryEvents = func() []*queryEvent {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	msgs := []struct {
		stream, msg string
		after       time.Duration
	}{
		{"web", `{"level":"INFO","latency":20,"path":"/","user":{"name":"alice"}}`, 0},
		{"web", `{"level":"ERROR","latency":250,"path":"/api","user":{"name":"bob"}}`, 1 * time.Minute},
		{"web", `{"level":"INFO","latency":40,"path":"/api","user":{"name":"alice"}}`, 2 * time.Minute},
		{"worker", `2025-03-01 WARN job=resize took=900ms`, 3 * time.Minute},
		{"worker", `2025-03-01 ERROR job=upload took=30ms timeout`, 7 * time.Minute},
		{"web", `{"level":"ERROR","latency":1200,"path":"/api","tags":["slow","db"]}`, 8 * time.Minute},
	}
	var out []*queryEvent
	for i, m := range msgs {
		ts := at.Add(m.after).UnixMilli()
		out = append(out, &queryEvent{ts: ts, ingestion: ts + 5, message: m.msg, stream: m.stream, log: "000000000000:app", ptr: fmt.Sprintf("p%d", i)})
	}
	return out
}()

func runTestQuery(t *testing.T, src string, limit int) [][]resultField {
	t.Helper()
	q, err := compileQuery(src)
	if err != nil {
		t.Fatalf("compileQuery(%q): %v", src, err)
	}
	rows, _, err := q.run(func(yield func(*queryEvent) bool) error {
		for _, e := range queryEvents {
			yield(e)
		}
		return nil
	}, limit)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// compact writes rows as "field=value field=value" lines, without @ptr
// unless asked, for readable wants.
func compact(rows [][]resultField, ptr bool) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, f := range r {
			if f.Field != "@ptr" || ptr {
				parts = append(parts, f.Field+"="+f.Value)
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestQuery(t *testing.T) {
	tests := []struct {
		name, query string
		want        []string
	}{
		{"fields, newest first", "fields @timestamp, level", []string{
			"@timestamp=2025-03-01 12:08:00.000 level=ERROR",
			"@timestamp=2025-03-01 12:07:00.000",
			"@timestamp=2025-03-01 12:03:00.000",
			"@timestamp=2025-03-01 12:02:00.000 level=INFO",
			"@timestamp=2025-03-01 12:01:00.000 level=ERROR",
			"@timestamp=2025-03-01 12:00:00.000 level=INFO",
		}},
		{"filter with and, or, comparisons", `fields latency | filter level = "ERROR" and (latency > 1000 or path = '/api')`, []string{
			"latency=1200", "latency=250",
		}},
		{"like, regex, not", `fields @logStream | filter @message like "timeout" or @message like /job=res/ | filter not @message =~ /WARN/`, []string{
			"@logStream=worker",
		}},
		{"in and not in", `fields latency | filter latency in [20, 40] and user.name not in ["bob"]`, []string{"latency=40", "latency=20"}},
		{"nested JSON fields", `fields user.name, tags.1 | filter ispresent(user.name) or ispresent(tags.0) | limit 3`, []string{
			"tags.1=db", "user.name=alice", "user.name=bob",
		}},
		{"arithmetic and alias", `filter latency >= 250 | fields latency / 1000 as seconds, concat(level, "!") as shout`, []string{
			"seconds=1.2 shout=ERROR!", "seconds=0.25 shout=ERROR!",
		}},
		{"stats by field", `stats count(*) as n, avg(latency), min(latency), max(latency), sum(latency) by level`, []string{
			"level=ERROR n=2 avg(latency)=725 min(latency)=250 max(latency)=1200 sum(latency)=1450",
			"level=INFO n=2 avg(latency)=30 min(latency)=20 max(latency)=40 sum(latency)=60",
			"n=2",
		}},
		{"stats by bin, newest first", `stats count(*) by bin(5m)`, []string{
			"bin(5m)=2025-03-01 12:05:00.000 count(*)=2",
			"bin(5m)=2025-03-01 12:00:00.000 count(*)=4",
		}},
		{"stats then sort and limit", `filter ispresent(path) | stats count(*) as hits, count_distinct(user.name) as users by path | sort hits desc | limit 1`, []string{
			"path=/api hits=3 users=2",
		}},
		{"parse glob", `parse @message "* * job=* took=*ms" as day, severity, job, took | filter took > 100 | fields job, took`, []string{
			"job=resize took=900",
		}},
		{"parse regex", `parse /job=(?<job>\w+) took=(?<ms>\d+)ms/ | filter ispresent(job) | sort ms asc | fields job, ms`, []string{
			"job=upload ms=30", "job=resize ms=900",
		}},
		{"sort with nulls last, limit", `sort latency desc | fields latency | limit 4`, []string{
			"latency=1200", "latency=250", "latency=40", "latency=20",
		}},
		{"display", `fields latency * 2 as double | filter level = "INFO" | display path, double`, []string{
			"path=/api double=80", "path=/ double=40",
		}},
		{"dedup", `filter ispresent(level) | sort @timestamp asc | dedup level | fields level`, []string{"level=INFO", "level=ERROR"}},
		{"functions", `filter @logStream = "worker" | fields toupper(substr) as x, strlen(@logStream) as n, tolower("ABC") as l | limit 1`, []string{
			"n=6 l=abc",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, compact(runTestQuery(t, tt.query, 100), false)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

func TestQueryDefaults(t *testing.T) {
	// No fields command: every field, the system ones first, then @ptr.
	got := compact(runTestQuery(t, `filter latency = 20`, 100), true)
	want := []string{`@timestamp=2025-03-01 12:00:00.000 @message={"level":"INFO","latency":20,"path":"/","user":{"name":"alice"}} ` +
		`@logStream=web @log=000000000000:app level=INFO latency=20 path=/ user.name=alice @ptr=p0`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// StartQuery's limit caps the rows; the newest are kept.
	if got := compact(runTestQuery(t, `fields @logStream`, 2), true); !cmp.Equal(got, []string{"@logStream=web @ptr=p5", "@logStream=worker @ptr=p4"}) {
		t.Errorf("limit 2: got %v", got)
	}
	// stats rows have no @ptr.
	if got := compact(runTestQuery(t, `stats count()`, 2), true); !cmp.Equal(got, []string{"count()=6"}) {
		t.Errorf("stats: got %v", got)
	}
}

func TestQueryErrors(t *testing.T) {
	// malformed is compileQuery's MalformedQueryException message, or
	// what it answered instead.
	malformed := func(query string) string {
		_, err := compileQuery(query)
		if code, msg := apiCode(err); code == "MalformedQueryException" {
			return msg
		}
		return fmt.Sprintf("not MalformedQueryException: %v", err)
	}
	tabletest.Run(t, "compileQuery", malformed, map[string]string{
		"fieldz @message":               "unexpected symbol found fieldz at line 1 and position 1",
		"fields @message\n| sort":       "unexpected end of query at line 2 and position 7",
		"fields a | filter a = ":        "unexpected end of query at line 1 and position 23",
		"filter a ! b":                  "unexpected symbol found ! at line 1 and position 10",
		"stats foo(x)":                  "unexpected symbol found foo at line 1 and position 7",
		"stats count(*) by bin(5q)":     "unexpected symbol found 5q at line 1 and position 23",
		`parse @message "a * b *" as x`: "the pattern has 2 wildcards for 1 fields at line 1 and position 16",
		`parse @message /(\d+)/`:        "every group of a parse regular expression must be named, as (?<name>...) at line 1 and position 16",
		"limit 0":                       "unexpected symbol found 0 at line 1 and position 7",
		`filter @message like "x`:       "unterminated string at line 1 and position 22",
		"":                              "unexpected end of query at line 1 and position 1",
		"fields a b":                    "unexpected symbol found b at line 1 and position 10",
	})
}
