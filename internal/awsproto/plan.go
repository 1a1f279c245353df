package awsproto

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kind is the botocore type of a value, derived from its Go type.
type kind uint8

const (
	kindString kind = iota
	kindBool
	kindInt // int8..int64
	kindFloat
	kindTime
	kindBlob
	kindStream // streaming payload: io.ReadCloser
	kindStruct
	kindList
	kindMap
	kindDocument // any
)

// location is where a member travels in a REST request or response.
type location uint8

const (
	inBody location = iota
	inHeader
	inHeaders // prefix headers: a map
	inURI
	inQuery
	inStatus
)

// scope selects the members of a structure that travel in a body.
type scope uint8

const (
	allMembers   scope = iota // json, query and ec2: every member
	requestBody               // REST requests: members not bound to the URI, query string or headers
	responseBody              // REST responses: also members bound to the URI or query string, which mean nothing in a response
	auditRecord               // CloudTrail's record of a call: every member, by its lower camel case name (audit.go)
)

// nested is the scope of the values inside a structure, list or map.
func (s scope) nested() scope {
	if s == auditRecord {
		return auditRecord
	}
	return allMembers
}

func (s scope) includes(m *member) bool {
	switch s {
	case requestBody:
		return m.loc == inBody
	case responseBody:
		return m.loc == inBody || m.loc == inURI || m.loc == inQuery
	}
	return true
}

// member is one compiled structure member.
type member struct {
	index     int
	name      string // botocore member name
	locName   string // locationName, "" when absent
	queryName string
	// queryCompatName names the member in the query protocol of a JSON
	// service that serves query too, where the two differ.
	queryCompatName string
	loc             location
	flattened       bool // the list or map is flattened, by the reference or by its shape
	refFlat         bool // the reference itself says flattened
	ns              XMLNamespace
	attr            bool
	tsFormat        string
	jsonValue       bool
	idem            bool
	hostLabel       bool
	streaming       bool
	payload         bool
	required        bool
	sensitive       bool // a secret: records of the call hide it (audit.go)
	ptr             bool // the field is a pointer
	t               *typeInfo

	// validation (validate.go)
	pathName  string // the member in AWS's validation messages: "userName"
	paramName string // the member in "must contain the parameter" messages: "UserName"
	check     *check // the model's constraint on the member's shape, or nil
	validates bool   // required, constrained, or holding something that is
}

// wireName is the name a member has on the wire in bodies and headers.
func (m *member) wireName() string {
	if m.locName != "" {
		return m.locName
	}
	return m.name
}

// xmlName is the name a member has in query requests and XML bodies.
func (m *member) xmlName() string {
	if m.queryCompatName != "" {
		return m.queryCompatName
	}
	return m.wireName()
}

// flatName is the element (or query key) name of the items of a flattened
// list. botocore models flatten either on the list shape, where the list's
// member locationName names the items (SQS's AttributeName.1), or on the
// reference, where the reference's own name does (Smithy's xmlFlattened).
func (m *member) flatName() string {
	if !m.refFlat && m.t.kind == kindList && m.t.coll.Member.LocationName != "" {
		return m.t.coll.Member.LocationName
	}
	return m.xmlName()
}

// typeInfo is the compiled plan of one Go type.
type typeInfo struct {
	kind  kind
	rtype reflect.Type // never a pointer
	bits  int          // size of ints and floats

	// structures
	shapeName   string
	members     []*member
	byName      map[string]*member
	locName     string
	ns          XMLNamespace
	payload     *member
	union       bool
	errCode     string
	hasBody     bool // has members that travel in the body
	hasRespBody bool // has members that travel in a response body

	// lists and maps
	coll      Collection
	elem      *typeInfo // list element or map value
	elemCheck *check    // the constraint on list elements or map values
	keyCheck  *check    // the constraint on map keys

	// validates says validate has something to check in a value of this
	// type: a required or constrained member, all the way down.
	validates bool
}

var (
	plans   sync.Map // reflect.Type → *typeInfo
	planMu  sync.Mutex
	readerT = reflect.TypeFor[io.ReadCloser]()
	timeT   = reflect.TypeFor[time.Time]()
	anyT    = reflect.TypeFor[any]()
)

// planOf returns the compiled plan of t (pointers are looked through).
func planOf(t reflect.Type) *typeInfo {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if ti, ok := plans.Load(t); ok {
		return ti.(*typeInfo)
	}
	planMu.Lock()
	defer planMu.Unlock()
	building := map[reflect.Type]*typeInfo{}
	ti := compile(t, building)
	markValidates(building)
	for rt, info := range building {
		plans.Store(rt, info)
	}
	return ti
}

func compile(t reflect.Type, building map[reflect.Type]*typeInfo) *typeInfo {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if ti, ok := plans.Load(t); ok {
		return ti.(*typeInfo)
	}
	if ti, ok := building[t]; ok {
		return ti // recursive shape: filled in by the outer call
	}
	ti := &typeInfo{rtype: t}
	building[t] = ti
	switch {
	case t == timeT:
		ti.kind = kindTime
	case t == readerT:
		ti.kind = kindStream
	case t == anyT:
		ti.kind = kindDocument
	case t.Kind() == reflect.String:
		ti.kind = kindString
	case t.Kind() == reflect.Bool:
		ti.kind = kindBool
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		ti.kind, ti.bits = kindInt, t.Bits()
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		ti.kind, ti.bits = kindFloat, t.Bits()
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
		ti.kind = kindBlob
	case t.Kind() == reflect.Slice:
		ti.kind = kindList
		ti.elem = compile(t.Elem(), building)
		ti.coll = collectionOf(t)
		ti.elemCheck = compileCheck(ti.coll.Member.Constraint, ti.elem)
	case t.Kind() == reflect.Map:
		ti.kind = kindMap
		ti.elem = compile(t.Elem(), building)
		ti.coll = collectionOf(t)
		ti.elemCheck = compileCheck(ti.coll.Value.Constraint, ti.elem)
		ti.keyCheck = compileCheck(ti.coll.Key.Constraint, mapKeyType)
	case t.Kind() == reflect.Struct:
		ti.kind = kindStruct
		compileStruct(ti, t, building)
	default:
		panic(fmt.Sprintf("awsproto: unsupported type %s", t))
	}
	return ti
}

func collectionOf(t reflect.Type) Collection {
	if t.Implements(reflect.TypeFor[collectionShape]()) {
		return reflect.Zero(t).Interface().(collectionShape).AWSCollection()
	}
	return Collection{}
}

// markValidates works out which of the types just compiled validate needs
// to visit; recursive shapes take more than one pass.
func markValidates(building map[reflect.Type]*typeInfo) {
	for changed := true; changed; {
		changed = false
		for _, ti := range building {
			for _, m := range ti.members {
				if !m.validates && (m.required || m.check != nil || m.t.validates) {
					m.validates, ti.validates, changed = true, true, true
				}
			}
			if !ti.validates && (ti.elemCheck != nil || ti.keyCheck != nil || (ti.elem != nil && ti.elem.validates)) {
				ti.validates, changed = true, true
			}
		}
	}
}

func constraintsOf(t reflect.Type) map[string]*Constraint {
	if t.Implements(reflect.TypeFor[constrained]()) {
		return reflect.Zero(t).Interface().(constrained).AWSConstraints()
	}
	return nil
}

// tagOptions applies the options of an aws struct tag: "k=v" sets the
// string strs names k, a bare k the flag flags names; other, when not nil,
// gets the options neither names.
func tagOptions(opts []string, strs map[string]*string, flags map[string]*bool, other func(k, v string)) {
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if p, ok := strs[k]; ok {
			*p = v
		} else if p, ok := flags[k]; ok {
			*p = true
		} else if other != nil {
			other(k, v)
		}
	}
}

func compileStruct(ti *typeInfo, t reflect.Type, building map[reflect.Type]*typeInfo) {
	ti.shapeName = t.Name()
	ti.byName = map[string]*member{}
	constraints := constraintsOf(t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("aws")
		if !ok {
			continue
		}
		opts := strings.Split(tag, ",")
		if f.Name == "_" {
			tagOptions(opts[1:],
				map[string]*string{"name": &ti.shapeName, "ln": &ti.locName, "ns": &ti.ns.URI, "nsp": &ti.ns.Prefix, "error": &ti.errCode},
				map[string]*bool{"union": &ti.union}, nil)
			continue
		}
		m := &member{index: i, name: opts[0], ptr: f.Type.Kind() == reflect.Pointer}
		tagOptions(opts[1:],
			map[string]*string{"ln": &m.locName, "qn": &m.queryName, "qcn": &m.queryCompatName, "ns": &m.ns.URI, "nsp": &m.ns.Prefix, "ts": &m.tsFormat},
			map[string]*bool{"attr": &m.attr, "jsonvalue": &m.jsonValue, "idem": &m.idem, "hostlabel": &m.hostLabel,
				"stream": &m.streaming, "payload": &m.payload, "req": &m.required, "sensitive": &m.sensitive},
			func(k, v string) {
				switch k {
				case "loc":
					m.loc = map[string]location{"header": inHeader, "headers": inHeaders, "uri": inURI,
						"querystring": inQuery, "statusCode": inStatus}[v]
				case "flat":
					m.flattened, m.refFlat = true, true
				}
			})
		m.t = compile(f.Type, building)
		m.pathName = lowerFirst(m.name)
		m.paramName = orDefault(m.queryName, upperFirst(m.wireName()))
		m.check = compileCheck(constraints[m.name], m.t)
		if m.t.coll.Flattened {
			m.flattened = true
		}
		ti.members = append(ti.members, m)
		ti.byName[m.name] = m
		if m.payload {
			ti.payload = m
		}
		ti.hasBody = ti.hasBody || requestBody.includes(m)
		ti.hasRespBody = ti.hasRespBody || responseBody.includes(m)
	}
}

// isSet reports whether a field holds a value to serialize.
func isSet(f reflect.Value) bool {
	switch f.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return !f.IsNil()
	}
	return true
}

// elemOf dereferences pointers; the result is invalid for nil.
func elemOf(f reflect.Value) reflect.Value {
	for f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return reflect.Value{}
		}
		f = f.Elem()
	}
	return f
}

// alloc makes a settable value for a field: for a pointer field it
// allocates the pointee and returns it.
func alloc(f reflect.Value) reflect.Value {
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			f.Set(reflect.New(f.Type().Elem()))
		}
		return f.Elem()
	}
	return f
}

// scalarString formats a scalar for headers, URIs, query strings and XML text.
func scalarString(t *typeInfo, v reflect.Value, tsFormat string) string {
	switch t.kind {
	case kindString:
		return v.String()
	case kindBool:
		return strconv.FormatBool(v.Bool())
	case kindInt:
		return strconv.FormatInt(v.Int(), 10)
	case kindFloat:
		return formatFloat(v.Float(), t.bits)
	case kindTime:
		return formatTime(v.Interface().(time.Time), tsFormat)
	case kindBlob:
		return encodeBase64(v.Bytes())
	}
	return ""
}

// setScalar parses s into v according to t.
func setScalar(t *typeInfo, v reflect.Value, s string, tsFormat string) error {
	switch t.kind {
	case kindString:
		v.SetString(s)
	case kindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		v.SetBool(b)
	case kindInt:
		n, err := strconv.ParseInt(s, 10, t.bits)
		if err != nil {
			return fmt.Errorf("%q is not an integer of %d bits", s, t.bits)
		}
		v.SetInt(n)
	case kindFloat:
		f, err := parseFloat(s, t.bits)
		if err != nil {
			return err
		}
		v.SetFloat(f)
	case kindTime:
		tm, err := parseTime(s, tsFormat)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(tm))
	case kindBlob:
		b, err := decodeBase64(s)
		if err != nil {
			return err
		}
		v.SetBytes(b)
	default:
		return fmt.Errorf("cannot set a %v from text", t.kind)
	}
	return nil
}
