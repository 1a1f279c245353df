package events

import (
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	valid := []string{"rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(3 days)",
		"cron(0 12 * * ? *)", "cron(15 10 ? * 6L 2026-2030)", "cron(0/15 * * * ? *)", "cron(0 8 1W * ? *)",
		"cron(0 18 ? * MON-FRI *)", "cron(0 10 L * ? *)", "cron(0 10 ? * 3#2 *)", "cron(5,35 14 * JAN,FEB ? *)", "cron(0 0 LW * ? *)"}
	for _, expr := range valid {
		if _, err := parseSchedule(expr); err != nil {
			t.Errorf("%s: %v", expr, err)
		}
	}
	invalid := []string{"rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 hours)", "rate(1 week)", "rate(5)",
		"cron(0 12 * * * *)", "cron(0 12 ? * ? *)", "cron(0 12 * *)", "cron(60 12 * * ? *)", "cron(0 24 * * ? *)",
		"cron(0 12 32 * ? *)", "cron(0 12 ? * 8 *)", "cron(0 12 * 13 ? *)", "cron(0 12 * * ? 1969)", "every 5 minutes",
		"cron(0 12 ? * 3#6 *)"}
	for _, expr := range invalid {
		_, err := parseSchedule(expr)
		if err == nil || err.Error() != badSchedule().Error() {
			t.Errorf("%s: got %v, want %v", expr, err, badSchedule())
		}
	}
}

func TestCronNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		expr, after, want string
	}{
		{"cron(0 12 * * ? *)", "2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"},
		{"cron(0 12 * * ? *)", "2026-01-01T12:00:00Z", "2026-01-02T12:00:00Z"},
		{"cron(0/15 * * * ? *)", "2026-01-01T12:07:30Z", "2026-01-01T12:15:00Z"},
		{"cron(0 18 ? * MON-FRI *)", "2026-01-02T19:00:00Z", "2026-01-05T18:00:00Z"}, // Friday evening → Monday
		{"cron(0 10 L * ? *)", "2026-02-01T00:00:00Z", "2026-02-28T10:00:00Z"},
		{"cron(0 10 ? * 6L *)", "2026-01-01T00:00:00Z", "2026-01-30T10:00:00Z"},  // last Friday of January 2026
		{"cron(0 10 ? * 3#2 *)", "2026-01-01T00:00:00Z", "2026-01-13T10:00:00Z"}, // second Tuesday
		{"cron(0 8 1W * ? *)", "2026-02-01T00:00:00Z", "2026-02-02T08:00:00Z"},   // Sunday the 1st → Monday the 2nd
		{"cron(0 8 15W * ? *)", "2026-08-01T00:00:00Z", "2026-08-14T08:00:00Z"},  // Saturday the 15th → Friday
		{"cron(0 0 1 1 ? 2027)", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"cron(0 9 ? * L *)", "2026-01-01T00:00:00Z", "2026-01-03T09:00:00Z"}, // L alone: every Saturday
	}
	for _, tt := range tests {
		s, err := parseSchedule(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		if got := s.next(at(tt.after)); !got.Equal(at(tt.want)) {
			t.Errorf("%s after %s: got %s, want %s", tt.expr, tt.after, got.Format(time.RFC3339), tt.want)
		}
	}
}
