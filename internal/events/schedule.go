package events

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"overcast/internal/controller"
	"overcast/internal/store"
)

// schedule is a parsed ScheduleExpression: a rate or a cron.
type schedule struct {
	rate time.Duration
	cron *cronSpec
}

func (s schedule) set() bool { return s.rate > 0 || s.cron != nil }

// next is the first firing strictly after t; zero when there is none.
func (s schedule) next(t time.Time) time.Time {
	if s.rate > 0 {
		return t.Add(s.rate)
	}
	return s.cron.next(t)
}

func badSchedule() error { return invalid("Parameter ScheduleExpression is not valid.") }

// parseSchedule parses rate(value unit) and cron(six fields), with
// EventBridge's rules.
func parseSchedule(expr string) (schedule, error) {
	if body, ok := cutWrapped(expr, "rate("); ok {
		value, unit, ok := strings.Cut(strings.TrimSpace(body), " ")
		n, err := strconv.Atoi(value)
		if !ok || err != nil || n <= 0 || value[0] == '0' {
			return schedule{}, badSchedule()
		}
		units := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}
		singular := strings.TrimSuffix(unit, "s")
		d, known := units[singular]
		if !known || (n == 1) != (unit == singular) {
			return schedule{}, badSchedule()
		}
		return schedule{rate: time.Duration(n) * d}, nil
	}
	if body, ok := cutWrapped(expr, "cron("); ok {
		c, err := parseCron(body)
		if err != nil {
			return schedule{}, badSchedule()
		}
		return schedule{cron: c}, nil
	}
	return schedule{}, badSchedule()
}

func cutWrapped(s, prefix string) (string, bool) {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", false
	}
	return strings.CutSuffix(body, ")")
}

// cronSpec is a parsed six-field cron: minutes, hours, day of month,
// month, day of week (1 is Sunday) and year, in UTC.
type cronSpec struct {
	minutes [60]bool
	hours   [24]bool
	months  [13]bool
	years   map[int]bool // nil: every year
	// Day of month: days, or the last day (lastDay, with lastOffset days
	// before it), or the weekday nearest to a day (weekdayOf, or of the
	// last day with lastWeekday).
	dom         [32]bool
	anyDOM      bool
	lastDay     bool
	weekdayOf   int
	lastWeekday bool
	dow         [8]bool
	anyDOW      bool
	lastDOW     int // "5L": the month's last Thursday
	nthDOW, nth int // "3#2": the month's second Tuesday
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
	errCron  = errors.New("invalid cron")
)

func parseCron(body string) (*cronSpec, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, errCron
	}
	c := &cronSpec{}
	if err := parseField(f[0], 0, 59, nil, c.minutes[:]); err != nil {
		return nil, err
	}
	if err := parseField(f[1], 0, 23, nil, c.hours[:]); err != nil {
		return nil, err
	}
	if err := parseField(f[3], 1, 12, monthNames, c.months[:]); err != nil {
		return nil, err
	}
	if f[5] != "*" {
		var years [2200]bool
		if err := parseField(f[5], 1970, 2199, nil, years[:]); err != nil {
			return nil, err
		}
		c.years = map[int]bool{}
		for y, ok := range years {
			if ok {
				c.years[y] = true
			}
		}
	}
	if (f[2] == "?") == (f[4] == "?") {
		return nil, errCron // exactly one of day-of-month and day-of-week is ?
	}
	if f[2] == "?" {
		c.anyDOM = true
		return c, c.parseDOW(f[4])
	}
	c.anyDOW = true
	return c, c.parseDOM(f[2])
}

func (c *cronSpec) parseDOM(f string) error {
	switch {
	case f == "L":
		c.lastDay = true
	case f == "LW":
		c.lastWeekday = true
	case strings.HasSuffix(f, "W"):
		n, err := strconv.Atoi(strings.TrimSuffix(f, "W"))
		if err != nil || n < 1 || n > 31 {
			return errCron
		}
		c.weekdayOf = n
	default:
		return parseField(f, 1, 31, nil, c.dom[:])
	}
	return nil
}

func (c *cronSpec) parseDOW(f string) error {
	switch {
	case strings.Contains(f, "#"):
		d, n, _ := strings.Cut(f, "#")
		day, err1 := fieldValue(d, dayNames)
		nth, err2 := strconv.Atoi(n)
		if err1 != nil || err2 != nil || day < 1 || day > 7 || nth < 1 || nth > 5 {
			return errCron
		}
		c.nthDOW, c.nth = day, nth
	case f == "L": // alone, L is the last day of the week: Saturday
		c.dow[7] = true
	case strings.HasSuffix(f, "L"):
		day, err := fieldValue(strings.TrimSuffix(f, "L"), dayNames)
		if err != nil || day < 1 || day > 7 {
			return errCron
		}
		c.lastDOW = day
	default:
		return parseField(f, 1, 7, dayNames, c.dow[:])
	}
	return nil
}

func fieldValue(s string, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(s)]; ok {
		return v, nil
	}
	return strconv.Atoi(s)
}

// parseField sets set[v] for every value a comma-separated list of *,
// values, ranges a-b and steps x/n selects within lo..hi.
func parseField(f string, lo, hi int, names map[string]int, set []bool) error {
	for _, part := range strings.Split(f, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return errCron
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err1, err2 error
			from, err1 = fieldValue(a, names)
			to, err2 = fieldValue(b, names)
			if err1 != nil || err2 != nil {
				return errCron
			}
		default:
			v, err := fieldValue(rng, names)
			if err != nil {
				return errCron
			}
			from = v
			if !hasStep {
				to = v
			}
		}
		if from < lo || to > hi || from > to {
			return errCron
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return nil
}

// next is the first minute strictly after t that the cron selects, or
// zero when none comes within the years it allows.
func (c *cronSpec) next(t time.Time) time.Time {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for i := 0; i < 366*8; i++ {
		d := day.AddDate(0, 0, i)
		if d.Year() > 2199 {
			break
		}
		if !c.dayMatches(d) {
			continue
		}
		for h := 0; h < 24; h++ {
			if !c.hours[h] {
				continue
			}
			for m := 0; m < 60; m++ {
				at := d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
				if c.minutes[m] && !at.Before(t) {
					return at
				}
			}
		}
	}
	return time.Time{}
}

func (c *cronSpec) dayMatches(d time.Time) bool {
	if (c.years != nil && !c.years[d.Year()]) || !c.months[int(d.Month())] {
		return false
	}
	last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	dow := int(d.Weekday()) + 1
	if c.anyDOW {
		switch {
		case c.lastDay:
			return d.Day() == last
		case c.lastWeekday:
			return d.Day() == nearestWeekday(d, last, last)
		case c.weekdayOf > 0:
			return d.Day() == nearestWeekday(d, min(c.weekdayOf, last), last)
		}
		return c.dom[d.Day()]
	}
	switch {
	case c.lastDOW > 0:
		return dow == c.lastDOW && d.Day()+7 > last
	case c.nthDOW > 0:
		return dow == c.nthDOW && (d.Day()-1)/7+1 == c.nth
	}
	return c.dow[dow]
}

// nearestWeekday is the weekday of d's month nearest to its day n,
// staying within the month.
func nearestWeekday(d time.Time, n, last int) int {
	at := time.Date(d.Year(), d.Month(), n, 0, 0, 0, 0, time.UTC)
	switch at.Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

// scheduleRecord is when a scheduled rule fires next.
type scheduleRecord struct {
	Expression string    `json:"expression"`
	Next       time.Time `json:"next"`
}

// scheduleRule keeps the rule's schedule record in step with its
// definition, within tx: a new or changed expression starts counting
// from now (a rate's first run is one period after the rule is put).
func (s *Service) scheduleRule(tx store.Tx, key string, r ruleRecord, sch schedule, now time.Time) error {
	if !sch.set() {
		err := tx.Delete(schedulesTable, key, store.AnyVersion)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
	var have scheduleRecord
	if _, err := store.GetJSON(tx, schedulesTable, key, &have); err == nil && have.Expression == r.Schedule {
		return nil
	}
	_, err := store.PutJSON(tx, schedulesTable, key, scheduleRecord{Expression: r.Schedule, Next: sch.next(now)}, store.AnyVersion)
	return err
}

// reconcileSchedule fires a scheduled rule when its time comes: the
// "Scheduled Event" goes to the rule's targets, and the next firing is
// recorded, in one transaction.
func (s *Service) reconcileSchedule(ctx context.Context, key string) (controller.Result, error) {
	sc, bus, name, ok := scopeOfRuleKey(key)
	if !ok {
		return controller.Result{}, nil
	}
	now := s.Now().UTC()
	var next time.Time
	var deliveries []string
	err := store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		deliveries, next = nil, time.Time{}
		var rec scheduleRecord
		version, err := store.GetJSON(tx, schedulesTable, key, &rec)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		r, _, err := getRule(tx, sc, bus, name)
		if err != nil || r.Schedule == "" {
			return tx.Delete(schedulesTable, key, version)
		}
		sch, err := parseSchedule(r.Schedule)
		if err != nil || rec.Next.IsZero() {
			return tx.Delete(schedulesTable, key, version)
		}
		if now.Before(rec.Next) {
			next = rec.Next
			return nil
		}
		if r.enabled() {
			ev := s.newEvent(sc, "aws.events", "Scheduled Event", rec.Next, []string{r.ARN}, []byte("{}"))
			if deliveries, err = s.deliverToRule(tx, sc, r, ev); err != nil {
				return err
			}
		}
		// Missed firings are not made up: the next one is after now.
		for next = sch.next(rec.Next); !next.IsZero() && !next.After(now); next = sch.next(next) {
		}
		rec.Next = next
		_, err = store.PutJSON(tx, schedulesTable, key, &rec, version)
		return err
	})
	if err != nil {
		return controller.Result{}, err
	}
	s.deliveries.Enqueue(deliveries...)
	if next.IsZero() {
		return controller.Result{}, nil
	}
	return controller.At(next), nil
}
