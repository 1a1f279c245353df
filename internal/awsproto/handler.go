package awsproto

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"overcast/internal/store"
)

// MaxBodySize bounds the request bodies the codec buffers. Operations whose
// input is a streaming payload (S3 objects, ECR layers) are not buffered
// and not bound by it.
const MaxBodySize = 16 << 20

// Handler serves the API of one service: it finds the operation, decodes
// the input, calls the implementation and encodes the result or error.
type Handler struct {
	svc         *Service
	impl        any
	implemented bool
	logger      *slog.Logger

	once   sync.Once
	byName map[string]*Operation
	router *router
	policy validationPolicy
}

// NewHandler serves the binding b.
func NewHandler(b Binding, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{svc: b.svc, impl: b.impl, implemented: b.implemented, logger: logger}
}

// RawServer is implemented by services that answer some requests their
// model cannot describe (S3's browser-form POST uploads). ServeRaw is
// called first and reports whether the request was its own; it either
// answered it or returns the error for the handler to write.
type RawServer interface {
	ServeRaw(w http.ResponseWriter, r *http.Request) (bool, error)
}

// Service returns the service h serves.
func (h *Handler) Service() *Service { return h.svc }

// Implemented reports whether a real implementation serves the service,
// rather than the generated one that answers every operation with 501.
func (h *Handler) Implemented() bool { return h.implemented }

func (h *Handler) init() {
	h.once.Do(func() {
		h.byName = make(map[string]*Operation, len(h.svc.Operations))
		for i := range h.svc.Operations {
			h.byName[h.svc.Operations[i].Name] = &h.svc.Operations[i]
		}
		if h.svc.Speaks("rest-json") || h.svc.Speaks("rest-xml") {
			h.router = newRouter(h.svc)
		}
		h.policy = validationPolicyFor(h.svc)
	})
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	bodyKey
)

// WithRequestID returns ctx carrying the request ID the gateway assigned.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request ID in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithBody returns ctx carrying a request body the gateway has already
// read (to verify its signature), so the codec does not read it again.
func WithBody(ctx context.Context, body []byte) context.Context {
	return context.WithValue(ctx, bodyKey, body)
}

// Protocol returns the wire protocol r speaks, among those of the service.
func (h *Handler) Protocol(r *http.Request) string {
	svc := h.svc
	if r.Header.Get("X-Amz-Target") != "" && (svc.Speaks("json")) {
		return "json"
	}
	if r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		return "smithy-rpc-v2-cbor"
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isForm := ct == "application/x-www-form-urlencoded" || (r.Method == http.MethodGet && r.URL.Query().Has("Action"))
	for _, p := range svc.Protocols {
		switch p {
		case "query", "ec2":
			if isForm {
				return p
			}
		case "rest-json", "rest-xml":
			return p
		}
	}
	for _, p := range svc.Protocols {
		if p == "json" || p == "query" || p == "ec2" {
			return p
		}
	}
	return svc.Protocols[0]
}

// UnsignedOperation reports whether r is for an operation AWS serves
// without a signature (STS's AssumeRoleWithWebIdentity, for one). It looks
// only at what is known without reading the body: the target, the URL, and
// a body the gateway already buffered.
func (h *Handler) UnsignedOperation(r *http.Request) bool {
	h.init()
	var op *Operation
	switch proto := h.Protocol(r); proto {
	case "json":
		_, name, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		op = h.byName[name]
	case protoCBOR:
		op, _ = h.cborOperation(r)
	case "query", "ec2":
		body, _ := r.Context().Value(bodyKey).([]byte)
		values, err := queryValues(r, body)
		if err == nil {
			op = h.byName[values.Get("Action")]
		}
	default:
		if rt, _ := h.router.find(r); rt != nil {
			op = rt.op
		}
	}
	return op != nil && op.Unsigned
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.init()
	proto := h.Protocol(r)
	reqID := RequestID(r.Context())
	if reqID == "" {
		reqID = NewRequestID()
		r = r.WithContext(WithRequestID(r.Context(), reqID))
	}
	setRequestIDHeader(w.Header(), proto, reqID)
	if isS3(h.svc) {
		w.Header().Set("x-amz-id-2", HostID(reqID))
	}
	if raw, ok := h.impl.(RawServer); ok {
		if mine, err := raw.ServeRaw(w, r); mine {
			if err != nil {
				h.writeError(w, r, proto, nil, err)
			}
			return
		}
	}
	op, in, err := h.decode(r, proto)
	if err != nil {
		if op != nil {
			refusal := err
			_, err = intercepted(r.Context(), &Call{Service: h.svc, Operation: op, Input: in, Refused: true},
				func(context.Context) (any, error) { return nil, refusal })
		}
		h.writeError(w, r, proto, op, err)
		return
	}
	meta := &responseMeta{header: w.Header()}
	out, err := h.call(withResponseMeta(r.Context(), meta), op, in)
	if err != nil {
		h.writeError(w, r, proto, op, err)
		return
	}
	if meta.status != 0 {
		op = withStatus(op, meta.status)
	}
	h.writeOutput(w, r, proto, op, out)
}

// withStatus is op answering with status instead of its modeled code.
func withStatus(op *Operation, status int) *Operation {
	c := *op
	c.ResponseCode = status
	return &c
}

// call runs the operation, turning a panic into an InternalFailure so one
// bad request never takes the connection (or the server) down.
func (h *Handler) call(ctx context.Context, op *Operation, in any) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.logger.Error("panic serving operation", "service", h.svc.ID, "operation", op.Name,
				"requestId", RequestID(ctx), "panic", p, "stack", string(debug.Stack()))
			out, err = nil, InternalFailure()
		}
	}()
	if h.impl == nil {
		return nil, NotImplemented(op.Name) // a binding without an implementation (tests)
	}
	return intercepted(ctx, &Call{Service: h.svc, Operation: op, Input: in}, func(ctx context.Context) (any, error) {
		return op.Call(ctx, h.impl, in)
	})
}

// readBody returns the request body, from the gateway's copy when it has
// one, refusing bodies over MaxBodySize and bodies that do not match the
// digests their client sent.
func readBody(r *http.Request) ([]byte, error) {
	b, ok := r.Context().Value(bodyKey).([]byte)
	if !ok {
		if r.Body == nil {
			return nil, nil
		}
		var err error
		b, err = io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
		if e, ok := AsAPIError(err); ok {
			return nil, e // the gateway's verdict on the body (a payload hash that does not match)
		}
		if err != nil {
			return nil, &Error{Code: "IncompleteBody", Status: http.StatusBadRequest, Message: "The request body could not be read: " + err.Error()}
		}
		if len(b) > MaxBodySize {
			return nil, ErrBodyTooLarge
		}
	}
	if err := verifyDigests(r.Header, b); err != nil {
		return nil, err
	}
	return decodeContentEncoding(r.Header, b)
}

// decodeContentEncoding undoes the gzip that SDKs apply to large request
// bodies (CloudWatch's PutMetricData, for one); the bound on the result
// keeps a small bomb from becoming a large allocation.
func decodeContentEncoding(h http.Header, b []byte) ([]byte, error) {
	enc := strings.ToLower(h.Get("Content-Encoding"))
	if !strings.Contains(enc, "gzip") {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, &Error{Code: "SerializationException", Status: http.StatusBadRequest, Message: "The gzip-encoded request body is not valid gzip."}
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxBodySize+1))
	if err != nil {
		return nil, &Error{Code: "SerializationException", Status: http.StatusBadRequest, Message: "The gzip-encoded request body is not valid gzip."}
	}
	if len(out) > MaxBodySize {
		return nil, ErrBodyTooLarge
	}
	return out, nil
}

// ErrBodyTooLarge is returned for request bodies over MaxBodySize.
var ErrBodyTooLarge = &Error{Code: "RequestEntityTooLarge", Status: http.StatusRequestEntityTooLarge,
	Message: fmt.Sprintf("Request body must be at most %d bytes.", MaxBodySize)}

// decode finds the operation and decodes its input. The operation is
// returned even with an error when it is known, for the error envelope.
func (h *Handler) decode(r *http.Request, proto string) (*Operation, any, error) {
	switch proto {
	case "json":
		return h.decodeJSONRequest(r)
	case "query", "ec2":
		return h.decodeQueryRequest(r, proto)
	case "rest-json", "rest-xml":
		return h.decodeRESTRequest(r, proto)
	case protoCBOR:
		return h.decodeCBORRequest(r)
	}
	return nil, nil, &Error{Code: "UnsupportedProtocol", Status: http.StatusNotImplemented,
		Message: fmt.Sprintf("overcast does not speak the %s protocol of %s yet.", proto, h.svc.ServiceID)}
}

func (h *Handler) decodeJSONRequest(r *http.Request) (*Operation, any, error) {
	target := r.Header.Get("X-Amz-Target")
	prefix, name, ok := SplitTarget(target)
	if !ok || (prefix != h.svc.TargetPrefix && prefix != h.svc.TargetShape()) {
		return nil, nil, &Error{Code: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("The target %q is not an operation of %s.", target, h.svc.ServiceID)}
	}
	op := h.byName[name]
	if op == nil {
		return nil, nil, &Error{Code: "UnknownOperationException", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("%s has no operation %s.", h.svc.ServiceID, name)}
	}
	return h.decodeRPCBody(r, op, "json", func(body []byte, in any) error {
		return decodeJSON(body, reflect.ValueOf(in), allMembers)
	})
}

// decodeRPCBody decodes the body of an RPC protocol's request (the whole
// input, no HTTP bindings) with decode, and validates the input.
func (h *Handler) decodeRPCBody(r *http.Request, op *Operation, proto string, decode func(body []byte, in any) error) (*Operation, any, error) {
	body, err := readBody(r)
	if err != nil {
		return op, nil, err
	}
	if op.NewInput == nil {
		return op, nil, nil
	}
	in := op.NewInput()
	if err := decode(body, in); err != nil {
		return op, nil, serializationError(proto, "%v", err)
	}
	return op, in, validate(in, &h.policy)
}

// queryValues merges a form body with the URL's query string; GET requests
// and presigned requests carry the parameters in the URL.
func queryValues(r *http.Request, body []byte) (url.Values, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.URL.Query() {
		if _, ok := values[k]; !ok {
			values[k] = vs
		}
	}
	return values, nil
}

func (h *Handler) decodeQueryRequest(r *http.Request, proto string) (*Operation, any, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, nil, err
	}
	values, err := queryValues(r, body)
	if err != nil {
		return nil, nil, serializationError(proto, "The request body is not a valid query string: %v", err)
	}
	action := values.Get("Action")
	if action == "" {
		return nil, nil, &Error{Code: "MissingAction", Status: http.StatusBadRequest, Message: "Missing Action"}
	}
	op := h.byName[action]
	if op == nil {
		return nil, nil, &Error{Code: "InvalidAction", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("Could not find operation %s for version %s", action, h.svc.APIVersion)}
	}
	if op.NewInput == nil {
		return op, nil, nil
	}
	in := op.NewInput()
	form := newQueryForm(values, proto == "ec2")
	v := reflect.ValueOf(in).Elem()
	if err := form.decodeStruct(planOf(v.Type()), v, ""); err != nil {
		return op, nil, validationError(proto, fmt.Sprintf("Invalid parameter %v", err))
	}
	return op, in, validate(in, &h.policy)
}

func (h *Handler) decodeRESTRequest(r *http.Request, proto string) (*Operation, any, error) {
	rt, labels := h.router.find(r)
	if rt == nil {
		return nil, nil, &Error{Code: "UnknownOperationException", Status: http.StatusNotFound,
			Message: fmt.Sprintf("%s has no operation for %s %s.", h.svc.ServiceID, r.Method, r.URL.Path)}
	}
	op := rt.op
	if op.NewInput == nil {
		return op, nil, nil
	}
	in := op.NewInput()
	v := reflect.ValueOf(in).Elem()
	t := planOf(v.Type())
	if err := decodeRESTBindings(t, v, r, rt, labels); err != nil {
		return op, nil, serializationError(proto, "%v", err)
	}
	if err := decodeRESTBody(t, v, r, proto, requestBody); err != nil {
		return op, nil, err
	}
	return op, in, validate(in, &h.policy)
}

// decodeRESTBody decodes the payload member, or the body members.
func decodeRESTBody(t *typeInfo, v reflect.Value, r *http.Request, proto string, scope scope) error {
	if p := t.payload; p != nil && p.t.kind == kindStream {
		body := r.Body
		if body == nil {
			body = http.NoBody
		}
		v.Field(p.index).Set(reflect.ValueOf(body))
		return nil
	}
	if (scope == requestBody && !t.hasBody) || (scope == responseBody && !t.hasRespBody) {
		return nil
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	if p := t.payload; p != nil {
		f := v.Field(p.index)
		switch p.t.kind {
		case kindBlob:
			if len(body) > 0 {
				f.SetBytes(body)
			}
			return nil
		case kindString:
			if len(body) > 0 {
				alloc(f).SetString(string(body))
			}
			return nil
		case kindDocument:
			return decodeJSONDocument(body, f)
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		return decodeStructBody(proto, body, p.t, alloc(f), allMembers)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeStructBody(proto, body, t, v, scope)
}

// decodeStructBody decodes a JSON or XML body into v, a structure of type
// t: the members scope names.
func decodeStructBody(proto string, body []byte, t *typeInfo, v reflect.Value, scope scope) error {
	if proto == "rest-json" {
		if err := decodeJSON(body, v, scope); err != nil {
			return serializationError(proto, "%v", err)
		}
		return nil
	}
	root, err := parseXML(bytes.NewReader(body))
	if err != nil {
		return serializationError(proto, "The XML you provided was not well-formed or did not validate against our published schema: %v", err)
	}
	if err := setXMLStruct(t, v, root, scope); err != nil {
		return serializationError(proto, "%v", err)
	}
	return nil
}

func decodeJSONDocument(body []byte, f reflect.Value) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return serializationError("rest-json", "the request body is not valid JSON: %v", err)
	}
	f.Set(reflect.ValueOf(&doc).Elem())
	return nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// setRequestIDHeader names the request ID the way the protocol family does.
func setRequestIDHeader(h http.Header, proto, id string) {
	switch proto {
	case "rest-xml", "ec2":
		h.Set("x-amz-request-id", id)
	default:
		h.Set("x-amzn-RequestId", id)
	}
}

// contentType is the Content-Type of proto's documents. svc is nil for
// errors written before any service is known (an unknown service, a
// failure while routing), which get JSON 1.0's.
func contentType(svc *Service, proto string) string {
	switch proto {
	case "json":
		version := "1.0"
		if svc != nil {
			version = orDefault(svc.JSONVersion, version)
		}
		return "application/x-amz-json-" + version
	case "rest-json":
		return "application/json"
	case "rest-xml":
		return "application/xml"
	case protoCBOR:
		return cborContentType
	}
	return "text/xml"
}

func (h *Handler) writeOutput(w http.ResponseWriter, r *http.Request, proto string, op *Operation, out any) {
	reqID := RequestID(r.Context())
	hdr := w.Header()
	status := http.StatusOK
	if op.ResponseCode != 0 {
		status = op.ResponseCode
	}
	var body []byte
	var stream io.ReadCloser
	switch proto {
	case "json":
		hdr.Set("Content-Type", contentType(h.svc, proto))
		body = encodeJSONOutput(out)
	case "query":
		hdr.Set("Content-Type", "text/xml")
		body = encodeQueryOutput(h.svc, op, out, reqID)
	case "ec2":
		hdr.Set("Content-Type", "text/xml;charset=UTF-8")
		body = encodeEC2Output(h.svc, op, out, reqID)
	case "rest-json", "rest-xml":
		status, body, stream = encodeRESTOutput(h.svc, proto, out, hdr, status)
	case protoCBOR:
		hdr.Set("Smithy-Protocol", cborProtocolName)
		// An operation without output answers without a body.
		if v := reflect.ValueOf(out); op.NewOutput != nil || (out != nil && !(v.Kind() == reflect.Pointer && v.IsNil())) {
			hdr.Set("Content-Type", cborContentType)
			body = encodeCBOROutput(out)
		}
	}
	if stream != nil {
		defer stream.Close()
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			io.Copy(w, stream)
		}
		return
	}
	if body != nil {
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
	} else if hdr.Get("Content-Length") == "" {
		hdr.Set("Content-Length", "0")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// EncodeJSON is v, a generated shape, as the JSON protocols write it: what
// a service puts in an event's detail to show a resource as its API does.
func EncodeJSON(v any) []byte { return encodeJSONOutput(v) }

func encodeJSONOutput(out any) []byte {
	v := reflect.ValueOf(out)
	if out == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return []byte("{}")
	}
	return appendJSON(make([]byte, 0, 256), planOf(v.Type()), v, "", allMembers)
}

func encodeQueryOutput(svc *Service, op *Operation, out any, reqID string) []byte {
	w := &xmlWriter{b: make([]byte, 0, 512)}
	root := op.Name + "Response"
	w.open(root, XMLNamespace{URI: svc.XMLNamespace}, nil)
	if v := reflect.ValueOf(out); out != nil && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		wrapper := orDefault(op.ResultWrapper, op.Name+"Result")
		w.open(wrapper, XMLNamespace{}, nil)
		w.structMembers(planOf(v.Type()), elemOf(v), allMembers)
		w.close(wrapper)
	}
	w.open("ResponseMetadata", XMLNamespace{}, nil)
	w.element("RequestId", reqID)
	w.close("ResponseMetadata")
	w.close(root)
	return w.b
}

func encodeEC2Output(svc *Service, op *Operation, out any, reqID string) []byte {
	w := &xmlWriter{b: make([]byte, 0, 512)}
	root := op.Name + "Response"
	w.open(root, XMLNamespace{URI: svc.XMLNamespace}, nil)
	w.element("requestId", reqID)
	if v := reflect.ValueOf(out); out != nil && !(v.Kind() == reflect.Pointer && v.IsNil()) {
		w.structMembers(planOf(v.Type()), elemOf(v), allMembers)
	}
	w.close(root)
	return w.b
}

// encodeRESTOutput writes header and status members into hdr and returns
// the status and either the body or a stream to copy.
func encodeRESTOutput(svc *Service, proto string, out any, hdr http.Header, status int) (int, []byte, io.ReadCloser) {
	v := reflect.ValueOf(out)
	if out == nil || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return status, nil, nil
	}
	t := planOf(v.Type())
	v = elemOf(v)
	status = encodeRESTBindings(t, v, hdr, status)
	if p := t.payload; p != nil {
		f := v.Field(p.index)
		if !isSet(f) {
			return status, nil, nil
		}
		switch p.t.kind {
		case kindStream:
			return status, nil, f.Interface().(io.ReadCloser)
		case kindBlob:
			if hdr.Get("Content-Type") == "" {
				hdr.Set("Content-Type", "application/octet-stream")
			}
			return status, f.Bytes(), nil
		case kindString:
			if hdr.Get("Content-Type") == "" {
				hdr.Set("Content-Type", "text/plain")
			}
			return status, []byte(elemOf(f).String()), nil
		case kindDocument:
			hdr.Set("Content-Type", "application/json")
			return status, appendJSON(nil, p.t, f, "", allMembers), nil
		}
		if proto == "rest-json" {
			hdr.Set("Content-Type", "application/json")
			return status, appendJSON(nil, p.t, f, "", allMembers), nil
		}
		hdr.Set("Content-Type", "application/xml")
		w := &xmlWriter{}
		w.value(orDefault(p.locName, orDefault(p.t.locName, p.t.shapeName)), p.ns, p.t, f, "")
		return status, w.b, nil
	}
	if !t.hasRespBody {
		return status, nil, nil
	}
	if proto == "rest-json" {
		hdr.Set("Content-Type", "application/json")
		return status, appendJSON(make([]byte, 0, 256), t, v, "", responseBody), nil
	}
	hdr.Set("Content-Type", "application/xml")
	w := &xmlWriter{b: make([]byte, 0, 512)}
	ns := t.ns
	if ns.URI == "" {
		ns.URI = svc.XMLNamespace
	}
	if isS3(svc) {
		if ns.URI == "" {
			ns.URI = "http://s3.amazonaws.com/doc/2006-03-01/"
		}
		w.b = append(w.b, `<?xml version="1.0" encoding="UTF-8"?>`...)
		if t.shapeName == "GetBucketLocationOutput" {
			// The document is the bare element; us-east-1 is an empty one.
			w.open("LocationConstraint", ns, nil)
			if m := t.byName["LocationConstraint"]; m != nil {
				if f := elemOf(v.Field(m.index)); f.IsValid() {
					w.text(f.String())
				}
			}
			w.close("LocationConstraint")
			return status, w.b, nil
		}
	}
	w.structElement(rootElement(svc, t), ns, t, v, responseBody)
	return status, w.b, nil
}

// writeError encodes err in the protocol's error envelope. Errors that are
// not APIErrors are overcast's own failures: logged, and reported as
// InternalFailure.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, proto string, op *Operation, err error) {
	apiErr, ok := AsAPIError(err)
	if !ok {
		opName := ""
		if op != nil {
			opName = op.Name
		}
		if errors.Is(err, store.ErrConflict) {
			h.logger.Warn("operation lost too many write races", "service", h.svc.ID, "operation", opName,
				"requestId", RequestID(r.Context()), "err", err)
			apiErr = Overloaded(h.svc.ID)
		} else {
			h.logger.Error("operation failed", "service", h.svc.ID, "operation", opName,
				"requestId", RequestID(r.Context()), "err", err)
			apiErr = InternalFailure()
		}
	}
	WriteError(w, h.svc, proto, apiErr, RequestID(r.Context()), r.Method == http.MethodHead)
}

// WriteError writes an API error in the envelope of the protocol. The
// gateway uses it for errors found before a service is reached (bad
// signatures, unknown keys), and with a nil svc for requests no service
// claims.
func WriteError(w http.ResponseWriter, svc *Service, proto string, e APIError, reqID string, head bool) {
	hdr := w.Header()
	setRequestIDHeader(hdr, proto, reqID)
	var extra *Error
	if errors.As(e, &extra) && extra.Header != nil {
		for k, vs := range extra.Header {
			hdr[k] = vs
		}
	}
	status := e.HTTPStatusCode()
	if status == 0 {
		status = http.StatusBadRequest
	}
	if status == http.StatusNotModified {
		// A 304 is an answer to a conditional request, not a document.
		hdr.Del("Content-Type")
		hdr.Del("Content-Length")
		w.WriteHeader(status)
		return
	}
	// A modeled exception carries members of its own: in the body, and in
	// REST protocols also in headers.
	var t *typeInfo
	var v reflect.Value
	if rv := reflect.ValueOf(e); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
		if pt := planOf(rv.Type()); pt.errCode != "" {
			t, v = pt, rv.Elem()
		}
	}
	if t != nil && (proto == "rest-json" || proto == "rest-xml") {
		encodeRESTBindings(t, v, hdr, status)
	}
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	var body []byte
	switch proto {
	case "json", "rest-json", protoCBOR:
		typ := e.ErrorCode()
		if svc != nil && svc.QueryCompatible && proto != "rest-json" {
			// Query-compatible services name the shape in the JSON body and
			// the query-era code in a header; the HTTP status is JSON's
			// (server faults, 501 NotImplemented among them, keep theirs).
			hdr.Set("x-amzn-query-error", e.ErrorCode()+";"+fault)
			if t != nil {
				typ = t.shapeName
			}
			if status < http.StatusInternalServerError {
				status = http.StatusBadRequest
			}
		}
		hdr.Set("Content-Type", contentType(svc, proto))
		if proto == protoCBOR {
			hdr.Set("Smithy-Protocol", cborProtocolName)
			body = encodeCBORError(svc, e, t, v, typ)
			break
		}
		hdr.Set("X-Amzn-ErrorType", typ)
		scope := allMembers
		if proto == "rest-json" {
			scope = responseBody
		}
		body = encodeJSONError(e, t, v, typ, proto == "json", scope)
	case "ec2":
		hdr.Set("Content-Type", "text/xml;charset=UTF-8")
		x := &xmlWriter{}
		x.open("Response", XMLNamespace{}, nil)
		x.open("Errors", XMLNamespace{}, nil)
		x.open("Error", XMLNamespace{}, nil)
		x.element("Code", e.ErrorCode())
		x.element("Message", e.ErrorMessage())
		if t != nil {
			x.structMembers(withoutMessage(t), v, allMembers)
		}
		x.close("Error")
		x.close("Errors")
		x.element("RequestID", reqID)
		x.close("Response")
		body = x.b
	case "rest-xml":
		if !isS3(svc) {
			body = encodeXMLError(hdr, svc, proto, e, t, v, fault, reqID)
			break
		}
		hdr.Set("Content-Type", "application/xml")
		hdr.Set("x-amz-id-2", HostID(reqID))
		x := &xmlWriter{}
		writeS3Error(x, e, t, v, reqID)
		body = x.b
	default: // query
		body = encodeXMLError(hdr, svc, proto, e, t, v, fault, reqID)
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if !head {
		w.Write(body)
	}
}

// encodeXMLError writes the query and rest-xml error envelope and sets its
// Content-Type in hdr.
func encodeXMLError(hdr http.Header, svc *Service, proto string, e APIError, t *typeInfo, v reflect.Value, fault, reqID string) []byte {
	ct, scope := "text/xml", allMembers
	if proto == "rest-xml" {
		ct, scope = "application/xml", responseBody
	}
	hdr.Set("Content-Type", ct)
	x := &xmlWriter{}
	ns := XMLNamespace{}
	if svc != nil && proto == "query" {
		ns.URI = svc.XMLNamespace
	}
	x.open("ErrorResponse", ns, nil)
	x.open("Error", XMLNamespace{}, nil)
	x.element("Type", fault)
	x.element("Code", e.ErrorCode())
	x.element("Message", e.ErrorMessage())
	if t != nil {
		x.structMembers(withoutMessage(t), v, scope)
	}
	x.close("Error")
	x.element("RequestId", reqID)
	x.close("ErrorResponse")
	return x.b
}

// withoutMessage is the plan of an exception minus its message member,
// which the envelope already carries.
func withoutMessage(t *typeInfo) *typeInfo {
	c := *t
	c.members = nil
	for _, m := range t.members {
		if !strings.EqualFold(m.name, "message") {
			c.members = append(c.members, m)
		}
	}
	return &c
}

// encodeJSONError writes a modeled exception (t, v) with its members, or a
// generic error as a message; awsJson also names the type in "__type".
func encodeJSONError(e APIError, t *typeInfo, v reflect.Value, typ string, withType bool, scope scope) []byte {
	b := []byte{'{'}
	field := func(name string) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
	}
	if withType {
		field("__type")
		b = appendJSONString(b, typ)
	}
	hasMessage := false
	if t != nil {
		for _, m := range t.members {
			if strings.EqualFold(m.name, "message") && isSet(v.Field(m.index)) {
				hasMessage = true
			}
		}
	}
	if !hasMessage && e.ErrorMessage() != "" {
		field("message")
		b = appendJSONString(b, e.ErrorMessage())
	}
	if t != nil {
		if obj := appendJSON(nil, t, v, "", scope); len(obj) > 2 {
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = append(b, obj[1:len(obj)-1]...)
		}
	}
	return append(b, '}')
}
