package awsproto

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Timestamp formats of botocore's timestampFormat trait.
const (
	tsISO8601 = "iso8601"
	tsRFC822  = "rfc822"
	tsUnix    = "unixTimestamp"
)

// orDefault returns the member's declared format, or the location's default.
func orDefault(format, def string) string {
	if format != "" {
		return format
	}
	return def
}

func formatTime(t time.Time, format string) string {
	t = t.UTC()
	switch format {
	case tsRFC822:
		return t.Format(http.TimeFormat)
	case tsUnix:
		return formatEpoch(t)
	default:
		if t.Nanosecond() == 0 {
			return t.Format("2006-01-02T15:04:05Z")
		}
		return t.Format("2006-01-02T15:04:05.000Z")
	}
}

// formatEpoch writes seconds since the epoch with millisecond precision,
// without an exponent, as AWS does ("1398796238" or "1398796238.123").
func formatEpoch(t time.Time) string {
	ms := t.UnixMilli()
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		if frac < 0 {
			frac = -frac
		}
		s += strings.TrimRight(fmt.Sprintf(".%03d", frac), "0")
	}
	return s
}

var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"20060102T150405Z",
	"2006-01-02",
}

// parseTime accepts the declared format first and then, leniently, the
// others: clients disagree on the edges, and AWS accepts them too.
func parseTime(s string, format string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if format == tsUnix || isNumber(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil {
			return epochTime(f), nil
		}
	}
	if format == tsRFC822 || (len(s) > 3 && s[3] == ',') {
		for _, layout := range []string{http.TimeFormat, time.RFC1123, time.RFC1123Z, time.RFC850, time.ANSIC} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
	}
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a valid timestamp", s)
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || (i == 0 && c == '-')) {
			return false
		}
	}
	return true
}

// epochTime converts fractional epoch seconds, rounded to the millisecond
// (the precision AWS keeps).
func epochTime(f float64) time.Time {
	ms := math.Round(f * 1000)
	return time.UnixMilli(int64(ms)).UTC()
}

func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

func parseFloat(s string, bits int) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return f, nil
}

func encodeBase64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// decodeBase64 accepts padded and unpadded standard base64.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, fmt.Errorf("%q is not valid base64", s)
	}
	return b, nil
}
