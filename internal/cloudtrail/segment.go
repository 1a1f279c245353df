package cloudtrail

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"overcast"
	"overcast/internal/awsproto"
	"overcast/internal/ids"
	"overcast/internal/store"
)

// The event history is stored in segments: one item per scope per batch
// the recorder writes, keyed by account/region/<stamp>/<suffix>. A row
// per event costs the store more than recording a call costs everything
// else (measured: two thirds of the recorder's time went to its
// per-event writes).
//
// A segment holds its events compactly (segmentEncoder): what repeats
// from call to call (who called, from where, with what agent, which
// operation) once, as a numbered "shape", and each event as the few
// values that are its own. Records are rendered from that when read
// (LookupEvents, delivery), which is far rarer than writing. Building each
// record with encoding/json and deflating the segment cost more CPU than
// the calls being recorded (measured on sts:GetCallerIdentity), and the
// store's cost grows with the bytes written (~20 µs per KB measured on
// SQLite), so a call's event is some 60 bytes. Segments of the first
// format (a deflated JSON array of events and their records) are still
// read.

// segmentKey is the key of a segment of scope's events whose first stamp
// is stamp.
func segmentKey(scope overcast.Scope, stamp int64, suffix string) string {
	return scope.Prefix() + stampKey(stamp) + "/" + suffix
}

// compactMagic starts a segment of the compact format. No deflate stream
// starts so: a stored block whose length is 0xffff has 0 as its
// complement.
const compactMagic = "\x00\xff\xff\xff\xff"

// Event flags, as a compact event's "f" holds them.
const (
	flagReadOnly = 1 << iota
	flagManagement
	flagTLS
)

// shape is what an event shares with others of the same caller and
// operation: numbers in the segment's dictionary.
type shape [shapeFields]int

// A shape's fields.
const (
	shapeName = iota
	shapeSource
	shapeIdentity
	shapeUsername
	shapeAccessKeyID
	shapeSourceIP
	shapeUserAgent
	shapeDataType
	shapeFields
)

// segmentEncoder writes one compact segment: a JSON object whose "e" are
// the events, "c" their shapes and "d" the dictionary the shapes number
// (0 is the empty string), "b" the time events' "t" count from.
type segmentEncoder struct {
	buf    []byte
	words  map[string]int
	dict   []string
	shapes map[shape]int
	list   []shape
	base   int64
	n      int
}

func newSegmentEncoder(scope overcast.Scope) *segmentEncoder {
	e := &segmentEncoder{words: map[string]int{"": 0}, dict: []string{""}, shapes: map[shape]int{}, buf: make([]byte, 0, 8192)}
	e.buf = append(e.buf, compactMagic+`{"a":`...)
	e.buf = awsproto.AppendJSONString(e.buf, scope.Account)
	e.buf = append(e.buf, `,"g":`...)
	e.buf = awsproto.AppendJSONString(e.buf, scope.Region)
	e.buf = append(e.buf, `,"e":[`...)
	return e
}

// word is s's number in the dictionary.
func (e *segmentEncoder) word(s string) int {
	if i, ok := e.words[s]; ok {
		return i
	}
	e.words[s] = len(e.dict)
	e.dict = append(e.dict, s)
	return len(e.dict) - 1
}

func (e *segmentEncoder) shape(ev *recorded) int {
	var sh shape
	sh[shapeName] = e.word(ev.name)
	sh[shapeSource] = e.word(ev.source)
	sh[shapeIdentity] = e.word(ev.identity)
	sh[shapeUsername] = e.word(ev.username)
	sh[shapeAccessKeyID] = e.word(ev.accessKeyID)
	sh[shapeSourceIP] = e.word(ev.sourceIP)
	sh[shapeUserAgent] = e.word(ev.userAgent)
	sh[shapeDataType] = e.word(ev.dataType)
	if i, ok := e.shapes[sh]; ok {
		return i
	}
	e.shapes[sh] = len(e.list)
	e.list = append(e.list, sh)
	return len(e.list) - 1
}

func (e *segmentEncoder) appendInt(key string, v int64) {
	e.buf = append(e.buf, `,"`...)
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, `":`...)
	e.buf = strconv.AppendInt(e.buf, v, 10)
}

func (e *segmentEncoder) appendString(key string, s string) {
	e.buf = append(e.buf, `,"`...)
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, `":`...)
	e.buf = awsproto.AppendJSONString(e.buf, s)
}

func (e *segmentEncoder) appendRaw(key string, raw []byte) {
	if len(raw) == 0 {
		return
	}
	e.buf = append(e.buf, `,"`...)
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, `":`...)
	e.buf = append(e.buf, raw...)
}

// add appends one event, as compactEvent reads it.
func (e *segmentEncoder) add(ev *recorded) {
	if e.n == 0 {
		e.base = ev.time.Unix()
		e.buf = append(e.buf, '{')
	} else {
		e.buf = append(e.buf, ',', '{')
	}
	e.n++
	e.buf = append(e.buf, `"c":`...)
	e.buf = strconv.AppendInt(e.buf, int64(e.shape(ev)), 10)
	e.appendInt("f", int64(ev.flags))
	if t := ev.time.Unix() - e.base; t != 0 {
		e.appendInt("t", t)
	}
	e.appendString("q", ev.requestID)
	if ev.errorCode != "" {
		e.appendInt("ec", int64(e.word(ev.errorCode)))
	}
	if ev.errorMessage != "" {
		e.appendString("em", ev.errorMessage)
	}
	e.appendRaw("p", ev.requestParameters)
	e.appendRaw("r", ev.responseElements)
	if len(ev.resources) > 0 {
		e.buf = append(e.buf, `,"res":[`...)
		for i, r := range ev.resources {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = append(e.buf, `{"t":`...)
			e.buf = strconv.AppendInt(e.buf, int64(e.word(r.Type)), 10)
			e.buf = append(e.buf, `,"n":`...)
			e.buf = awsproto.AppendJSONString(e.buf, r.Name)
			e.buf = append(e.buf, '}')
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, '}')
}

// finish returns the segment.
func (e *segmentEncoder) finish() []byte {
	e.buf = append(e.buf, ']')
	e.appendInt("b", e.base)
	e.buf = append(e.buf, `,"c":[`...)
	for i, sh := range e.list {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, '[')
		for j, w := range sh {
			if j > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = strconv.AppendInt(e.buf, int64(w), 10)
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, `],"d":[`...)
	for i, w := range e.dict {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = awsproto.AppendJSONString(e.buf, w)
	}
	return append(e.buf, ']', '}')
}

// compactSegment is a compact segment as read back.
type compactSegment struct {
	key     string         // its store key: with an event's index, what names it
	Account string         `json:"a"`
	Region  string         `json:"g"`
	Base    int64          `json:"b"`
	Events  []compactEvent `json:"e"`
	Shapes  [][]int        `json:"c"`
	Dict    []string       `json:"d"`
}

// compactEvent is an event in a compact segment.
type compactEvent struct {
	Shape             int             `json:"c"`
	Flags             int             `json:"f"`
	Time              int64           `json:"t"` // seconds after the segment's base
	RequestID         string          `json:"q"`
	ErrorCode         int             `json:"ec"` // in the dictionary
	ErrorMessage      string          `json:"em"`
	RequestParameters json.RawMessage `json:"p"`
	ResponseElements  json.RawMessage `json:"r"`
	Resources         []struct {
		Type int    `json:"t"` // in the dictionary
		Name string `json:"n"`
	} `json:"res"`
}

func (s *compactSegment) word(i int) string {
	if i < 0 || i >= len(s.Dict) {
		return ""
	}
	return s.Dict[i]
}

// field is the word of an event's shape's field.
func (s *compactSegment) field(ce *compactEvent, f int) string {
	if ce.Shape < 0 || ce.Shape >= len(s.Shapes) || f >= len(s.Shapes[ce.Shape]) {
		return ""
	}
	return s.word(s.Shapes[ce.Shape][f])
}

// eventID is the ID of the segment's i'th event: derived from where it is
// stored, which no other event shares, so that recording a call draws no
// random bytes and stores no ID.
func (s *compactSegment) eventID(i int) string {
	sum := sha256.Sum256([]byte(s.key + "#" + strconv.Itoa(i)))
	return ids.FormatUUID([16]byte(sum[:16]))
}

// events are the segment's events; their records are rendered when asked.
func (s *compactSegment) events() []event {
	events := make([]event, len(s.Events))
	for i := range s.Events {
		ce := &s.Events[i]
		ev := event{ID: s.eventID(i), Time: time.Unix(s.Base+ce.Time, 0).UTC(), Name: s.field(ce, shapeName), Source: s.field(ce, shapeSource),
			Username: s.field(ce, shapeUsername), AccessKeyID: s.field(ce, shapeAccessKeyID), ReadOnly: ce.Flags&flagReadOnly != 0,
			Management: ce.Flags&flagManagement != 0, DataType: s.field(ce, shapeDataType), compact: s, index: i}
		for _, r := range ce.Resources {
			ev.Resources = append(ev.Resources, resource{Type: s.word(r.Type), Name: r.Name})
			if !ev.Management && strings.HasPrefix(r.Name, "arn:") {
				ev.ARNs = append(ev.ARNs, r.Name)
			}
		}
		events[i] = ev
	}
	return events
}

// render is the CloudTrail record of the segment's i'th event, its
// fields in the order CloudTrail writes them.
func (s *compactSegment) render(i int, eventID string) json.RawMessage {
	ce := &s.Events[i]
	b := make([]byte, 0, 1024)
	str := func(key, v string) {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		b = awsproto.AppendJSONString(b, v)
	}
	raw := func(key string, v []byte) {
		b = append(b, `,"`...)
		b = append(b, key...)
		b = append(b, `":`...)
		if len(v) == 0 {
			v = []byte("null")
		}
		b = append(b, v...)
	}
	b = append(b, `{"eventVersion":"`+eventVersion+`"`...)
	identity := s.field(ce, shapeIdentity)
	if identity == "" {
		identity = `{}`
	}
	raw("userIdentity", []byte(identity))
	str("eventTime", time.Unix(s.Base+ce.Time, 0).UTC().Format(time.RFC3339))
	str("eventSource", s.field(ce, shapeSource))
	str("eventName", s.field(ce, shapeName))
	str("awsRegion", s.Region)
	str("sourceIPAddress", s.field(ce, shapeSourceIP))
	str("userAgent", s.field(ce, shapeUserAgent))
	if code := s.word(ce.ErrorCode); code != "" {
		str("errorCode", code)
	}
	if ce.ErrorMessage != "" {
		str("errorMessage", ce.ErrorMessage)
	}
	raw("requestParameters", ce.RequestParameters)
	raw("responseElements", ce.ResponseElements)
	str("requestID", ce.RequestID)
	str("eventID", eventID)
	raw("readOnly", strconv.AppendBool(nil, ce.Flags&flagReadOnly != 0))
	management := ce.Flags&flagManagement != 0
	if !management {
		n := 0
		for _, r := range ce.Resources {
			if !strings.HasPrefix(r.Name, "arn:") {
				continue
			}
			if n == 0 {
				b = append(b, `,"resources":[`...)
			} else {
				b = append(b, ',')
			}
			n++
			b = append(b, `{"type":`...)
			b = awsproto.AppendJSONString(b, s.word(r.Type))
			b = append(b, `,"ARN":`...)
			b = awsproto.AppendJSONString(b, r.Name)
			if s.Account != "" {
				b = append(b, `,"accountId":`...)
				b = awsproto.AppendJSONString(b, s.Account)
			}
			b = append(b, '}')
		}
		if n > 0 {
			b = append(b, ']')
		}
	}
	str("eventType", "AwsApiCall")
	raw("managementEvent", strconv.AppendBool(nil, management))
	str("recipientAccountId", s.Account)
	if management {
		str("eventCategory", "Management")
	} else {
		str("eventCategory", "Data")
	}
	if ce.Flags&flagTLS != 0 {
		b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256"}`...)
	}
	return append(b, '}')
}

// storedEvent is an event as a segment of the first format holds it:
// its fields, and its record beside them as it was made.
type storedEvent struct {
	Event  event           `json:"e"`
	Record json.RawMessage `json:"r"`
}

// decodeSegment is the events of the segment stored at key, of either
// format.
func decodeSegment(key string, value []byte) ([]event, error) {
	if rest, ok := bytes.CutPrefix(value, []byte(compactMagic)); ok {
		s := compactSegment{key: key}
		if err := json.Unmarshal(rest, &s); err != nil {
			return nil, err
		}
		return s.events(), nil
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(value)))
	if err != nil {
		return nil, err
	}
	var stored []storedEvent
	if err := json.Unmarshal(raw, &stored); err != nil {
		return nil, err
	}
	events := make([]event, len(stored))
	for i, st := range stored {
		events[i] = st.Event
		events[i].Record = st.Record
	}
	return events, nil
}

// position is an event's place in the history: its segment's key and its
// index in the segment.
type position struct {
	key   string
	index int
}

// scanEvents calls fn with the events of the segments opt selects, in
// the segments' order, and within a segment in writing order (or its
// reverse when opt.Reverse). from, when set, is where to resume: the
// events of from's segment after it (before it, when reversed), then the
// segments after from's segment. fn returning store.ErrStop ends the scan.
func scanEvents(tx store.Tx, opt store.ScanOptions, from *position, fn func(position, event) error) error {
	visit := func(key string, value []byte, skipUntil int) error {
		events, err := decodeSegment(key, value)
		if err != nil {
			return err
		}
		for i := range events {
			j := i
			if opt.Reverse {
				j = len(events) - 1 - i
			}
			if skipUntil >= 0 && (!opt.Reverse && j <= skipUntil || opt.Reverse && j >= skipUntil) {
				continue
			}
			if err := fn(position{key, j}, events[j]); err != nil {
				return err
			}
		}
		return nil
	}
	if from != nil {
		it, err := tx.Get(eventsTable, from.key)
		if err == nil {
			if err := visit(from.key, it.Value, from.index); err != nil {
				if err == store.ErrStop {
					return nil
				}
				return err
			}
		} else if err != store.ErrNotFound {
			return err
		}
		opt.After = from.key
	}
	return tx.Scan(eventsTable, opt, func(it store.Item) error { return visit(it.Key, it.Value, -1) })
}

// String is the position as a NextToken holds it, without its scope's
// prefix: a token is good only in the scope that made it.
func (p position) token(scope overcast.Scope) string {
	return strings.TrimPrefix(p.key, scope.Prefix()) + "#" + strconv.Itoa(p.index)
}

func parsePosition(token string, scope overcast.Scope) (position, bool) {
	key, index, ok := strings.Cut(token, "#")
	i, err := strconv.Atoi(index)
	if !ok || err != nil || i < 0 || len(key) < 21 || key[20] != '/' {
		return position{}, false
	}
	return position{scope.Prefix() + key, i}, true
}
