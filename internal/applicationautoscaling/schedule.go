package applicationautoscaling

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Timezone names IANA zones, whatever the host has installed
)

// schedule is a parsed Schedule of a scheduled action: when it runs.
type schedule interface {
	// next is the first run strictly after t, within [start, end] (zero
	// times are unbounded); ok is false when there is none.
	next(t, start, end time.Time) (time.Time, bool)
}

// parseSchedule reads the three forms of Application Auto Scaling's
// schedules: at(yyyy-mm-ddThh:mm:ss) and cron(...) in loc, rate(n unit).
func parseSchedule(expr string, loc *time.Location) (schedule, error) {
	kind, body, ok := strings.Cut(expr, "(")
	if !ok || !strings.HasSuffix(body, ")") {
		return nil, errors.New("a schedule is at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)")
	}
	body = strings.TrimSpace(strings.TrimSuffix(body, ")"))
	switch kind {
	case "at":
		at, err := time.ParseInLocation("2006-01-02T15:04:05", body, loc)
		if err != nil {
			return nil, errors.New("an at expression is at(yyyy-mm-ddThh:mm:ss)")
		}
		return atSchedule(at), nil
	case "rate":
		return parseRate(body)
	case "cron":
		c, err := parseCron(body, loc)
		if err != nil {
			return nil, fmt.Errorf("Invalid CRON expression: %w", err)
		}
		return c, nil
	}
	return nil, errors.New("a schedule is at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)")
}

// atSchedule runs once.
type atSchedule time.Time

func (a atSchedule) next(t, start, end time.Time) (time.Time, bool) {
	at := time.Time(a)
	return at, at.After(t) && !at.Before(start) && (end.IsZero() || !at.After(end))
}

// rateSchedule runs every interval from its start: the action's
// StartTime (the first run), else its creation (one interval later).
type rateSchedule time.Duration

var rateUnits = map[string]time.Duration{
	"minute": time.Minute, "minutes": time.Minute,
	"hour": time.Hour, "hours": time.Hour,
	"day": 24 * time.Hour, "days": 24 * time.Hour,
}

func parseRate(body string) (schedule, error) {
	value, unit, _ := strings.Cut(body, " ")
	n, err := strconv.Atoi(value)
	d, known := rateUnits[strings.TrimSpace(unit)]
	if err != nil || n <= 0 || !known {
		return nil, errors.New("a rate expression is rate(value unit), value a positive integer and unit minute(s), hour(s) or day(s)")
	}
	return rateSchedule(time.Duration(n) * d), nil
}

func (r rateSchedule) next(t, start, end time.Time) (time.Time, bool) {
	every := time.Duration(r)
	at := start // a StartTime still ahead is the first run
	if !t.Before(start) {
		at = start.Add((t.Sub(start)/every + 1) * every)
	}
	return at, end.IsZero() || !at.After(end)
}

// cronSchedule is Application Auto Scaling's cron: minutes, hours,
// day of month, month, day of week and year, in a time zone. One of the
// two day fields is "?": the other one picks the days.
type cronSchedule struct {
	minutes, hours, months, years []bool
	day                           func(time.Time) bool
	loc                           *time.Location
}

// cronField is the range and names of a cron field.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var (
	minuteField = cronField{name: "minutes", min: 0, max: 59}
	hourField   = cronField{name: "hours", min: 0, max: 23}
	domField    = cronField{name: "day-of-month", min: 1, max: 31}
	monthField  = cronField{name: "month", min: 1, max: 12,
		names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowField  = cronField{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	yearField = cronField{name: "year", min: 1970, max: 2199}
)

// parseCron reads "Min Hour DoM Month DoW [Year]"; a seven-field form
// with seconds first is accepted too, its seconds ignored (the schedule
// runs on the minute).
func parseCron(body string, loc *time.Location) (schedule, error) {
	f := strings.Fields(body)
	switch len(f) {
	case 5:
		f = append(f, "*")
	case 6:
	case 7:
		f = f[1:]
	default:
		return nil, fmt.Errorf("a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not %d", len(f))
	}
	c := &cronSchedule{loc: loc}
	var err error
	for _, p := range []struct {
		dst   *[]bool
		field cronField
		text  string
	}{{&c.minutes, minuteField, f[0]}, {&c.hours, hourField, f[1]}, {&c.months, monthField, f[3]}, {&c.years, yearField, f[5]}} {
		if *p.dst, err = p.field.parse(p.text); err != nil {
			return nil, err
		}
	}
	switch dom, dow := f[2], f[4]; {
	case (dom == "?") == (dow == "?"):
		return nil, errors.New("one of day-of-month and day-of-week must be ?, and only one")
	case dom != "?":
		c.day, err = parseDayOfMonth(dom)
	default:
		c.day, err = parseDayOfWeek(dow)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parse reads a list of values, ranges ("a-b"), "*" and steps ("x/n")
// into the set of values it allows, indexed from field.min.
func (field cronField) parse(text string) ([]bool, error) {
	set := make([]bool, field.max-field.min+1)
	for item := range strings.SplitSeq(text, ",") {
		from, to, step, err := field.span(item)
		if err != nil {
			return nil, err
		}
		for v := from; v <= to; v += step {
			set[v-field.min] = true
		}
	}
	return set, nil
}

// span reads one item of a list: its first and last values and step.
func (field cronField) span(item string) (from, to, step int, err error) {
	bad := fmt.Errorf("invalid %s field %q: values run from %d to %d", field.name, item, field.min, field.max)
	rng, stepText, stepped := strings.Cut(item, "/")
	step = 1
	if stepped {
		if step, err = strconv.Atoi(stepText); err != nil || step <= 0 {
			return 0, 0, 0, bad
		}
	}
	switch lo, hi, isRange := strings.Cut(rng, "-"); {
	case rng == "*":
		from, to = field.min, field.max
	case isRange:
		from, err = field.value(lo)
		if err == nil {
			to, err = field.value(hi)
		}
		if err != nil || from > to {
			return 0, 0, 0, bad
		}
	default:
		if from, err = field.value(rng); err != nil {
			return 0, 0, 0, bad
		}
		to = from
		if stepped {
			to = field.max // "5/15": from 5 on, every 15
		}
	}
	return from, to, step, nil
}

func (field cronField) value(s string) (int, error) {
	for i, name := range field.names {
		if strings.EqualFold(s, name) {
			return field.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < field.min || v > field.max {
		return 0, errors.New("out of range")
	}
	return v, nil
}

// parseDayOfMonth reads the day-of-month field: a set, or "L" (the last
// day), "LW" (the last weekday), "nW" (the weekday nearest day n, in the
// same month).
func parseDayOfMonth(text string) (func(time.Time) bool, error) {
	var tests []func(time.Time) bool
	for item := range strings.SplitSeq(text, ",") {
		switch {
		case item == "L":
			tests = append(tests, func(t time.Time) bool { return t.Day() == daysIn(t) })
		case item == "LW":
			tests = append(tests, func(t time.Time) bool { return t.Day() == nearestWeekday(t, daysIn(t)) })
		case strings.HasSuffix(item, "W"):
			n, err := domField.value(strings.TrimSuffix(item, "W"))
			if err != nil {
				return nil, fmt.Errorf("invalid day-of-month field %q", item)
			}
			tests = append(tests, func(t time.Time) bool { return t.Day() == nearestWeekday(t, n) })
		default:
			set, err := domField.parse(item)
			if err != nil {
				return nil, err
			}
			tests = append(tests, func(t time.Time) bool { return set[t.Day()-1] })
		}
	}
	return anyOf(tests), nil
}

// parseDayOfWeek reads the day-of-week field (1 or SUN to 7 or SAT): a
// set, or "nL" (the month's last day n), "n#k" (its k-th day n).
func parseDayOfWeek(text string) (func(time.Time) bool, error) {
	var tests []func(time.Time) bool
	hashes := 0
	for item := range strings.SplitSeq(text, ",") {
		bad := fmt.Errorf("invalid day-of-week field %q", item)
		if day, nth, ok := strings.Cut(item, "#"); ok {
			hashes++
			d, err := dowField.value(day)
			k, kerr := strconv.Atoi(nth)
			if err != nil || kerr != nil || k < 1 || k > 5 {
				return nil, bad
			}
			tests = append(tests, func(t time.Time) bool { return weekday(t) == d && (t.Day()-1)/7+1 == k })
			continue
		}
		if day, ok := strings.CutSuffix(item, "L"); ok {
			if day == "" { // "L" alone: the last day of every week
				tests = append(tests, func(t time.Time) bool { return weekday(t) == dowField.max })
				continue
			}
			d, err := dowField.value(day)
			if err != nil {
				return nil, bad
			}
			tests = append(tests, func(t time.Time) bool { return weekday(t) == d && t.Day()+7 > daysIn(t) })
			continue
		}
		set, err := dowField.parse(item)
		if err != nil {
			return nil, err
		}
		tests = append(tests, func(t time.Time) bool { return set[weekday(t)-1] })
	}
	if hashes > 1 {
		return nil, errors.New("a day-of-week field takes one # expression at most")
	}
	return anyOf(tests), nil
}

func anyOf(tests []func(time.Time) bool) func(time.Time) bool {
	return func(t time.Time) bool {
		for _, test := range tests {
			if test(t) {
				return true
			}
		}
		return false
	}
}

// weekday numbers days as cron does: Sunday is 1.
func weekday(t time.Time) int { return int(t.Weekday()) + 1 }

func daysIn(t time.Time) int { return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// nearestWeekday is the weekday of t's month nearest its day n: Friday
// for a Saturday, Monday for a Sunday, never across the month's ends.
func nearestWeekday(t time.Time, n int) int {
	n = min(n, daysIn(t))
	switch time.Date(t.Year(), t.Month(), n, 0, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == daysIn(t) {
			return n - 2
		}
		return n + 1
	}
	return n
}

// next walks the days after t in the schedule's zone, skipping years and
// months the schedule leaves out, and takes the first minute it allows.
func (c *cronSchedule) next(t, start, end time.Time) (time.Time, bool) {
	if t.Before(start) {
		t = start.Add(-time.Nanosecond)
	}
	local := t.In(c.loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, c.loc)
	for day.Year() <= yearField.max {
		switch {
		case !c.years[day.Year()-yearField.min]:
			day = time.Date(day.Year()+1, 1, 1, 0, 0, 0, 0, c.loc)
			continue
		case !c.months[int(day.Month())-1]:
			day = time.Date(day.Year(), day.Month()+1, 1, 0, 0, 0, 0, c.loc)
			continue
		}
		if c.day(day) {
			for h, hourOK := range c.hours {
				for m, minuteOK := range c.minutes {
					at := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, c.loc)
					if hourOK && minuteOK && at.After(t) {
						return at, end.IsZero() || !at.After(end)
					}
				}
			}
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, c.loc)
	}
	return time.Time{}, false
}
