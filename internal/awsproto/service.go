// Package awsproto is the hand-written runtime of AWS's wire protocols —
// json (1.0 and 1.1), query, ec2, rest-json, rest-xml and Smithy RPC v2
// CBOR — for the server side: it decodes requests into the generated shapes
// of internal/api/<svc>, calls the service, and encodes results and errors
// the way AWS does.
//
// The generated shapes carry botocore's traits in `aws:"..."` struct tags
// (and lists and maps in an AWSCollection method); this package compiles
// them once per type into a plan and walks values by reflection. Service
// code never sees JSON, XML, CBOR or form encoding.
package awsproto

import (
	"context"
	"strings"
)

// Service is a generated description of one AWS service.
type Service struct {
	ID              string   // Go package name, e.g. "iam", "applicationautoscaling"
	ServiceID       string   // botocore serviceId, e.g. "IAM"
	APIVersion      string   // e.g. "2010-05-08"
	Protocols       []string // in the model's order of preference
	JSONVersion     string   // "1.0" or "1.1" for json protocols
	TargetPrefix    string   // X-Amz-Target prefix for json protocols
	SigningName     string   // SigV4 credential scope service
	EndpointPrefix  string
	XMLNamespace    string // query/ec2 response namespace
	QueryCompatible bool   // json service that also reports query-style error codes
	GlobalEndpoint  string
	Operations      []Operation
}

// Binding is an implementation paired with the Service it implements.
// Service code gets one from the generated api.<svc>.Bind, which accepts
// only the package's Server interface.
type Binding struct {
	svc         *Service
	impl        any
	implemented bool
}

// NewBinding pairs impl, which must implement svc's generated Server
// interface, with svc; implemented is false for the generated
// UnimplementedServer. Generated code calls it; tests of this package's
// own services do too.
func NewBinding(svc *Service, impl any, implemented bool) Binding {
	return Binding{svc: svc, impl: impl, implemented: implemented}
}

// Service is the service b serves.
func (b Binding) Service() *Service { return b.svc }

// Implemented reports whether b is a real implementation, rather than
// the generated one that answers every operation with 501.
func (b Binding) Implemented() bool { return b.implemented }

// Operation is one operation of a Service.
type Operation struct {
	Name              string
	HTTPMethod        string
	RequestURI        string
	ResponseCode      int // success status of REST operations; 0 means 200
	Unsigned          bool
	HostPrefix        string
	ResultWrapper     string // query: element wrapping the result
	InputLocationName string // rest-xml: root element of the request body
	InputNS           XMLNamespace
	NewInput          func() any // nil when the operation takes no input
	NewOutput         func() any // nil when the operation returns no output
	// Call invokes the Server method; s is the implementation, in the value
	// from NewInput.
	Call func(ctx context.Context, s, in any) (any, error)
}

// XMLNamespace is an xmlns declaration; an empty Prefix is the default namespace.
type XMLNamespace struct {
	Prefix string
	URI    string
}

// Collection carries the wire traits of a list or map shape. Generated list
// and map types return it from an AWSCollection method when they have any.
type Collection struct {
	Flattened bool
	Member    ElemTraits // list element
	Key       ElemTraits // map key
	Value     ElemTraits // map value
}

// ElemTraits are the traits of the reference from a list or map to its elements.
type ElemTraits struct {
	LocationName    string
	NS              XMLNamespace
	TimestampFormat string
	JSONValue       bool
	// Constraint is the model's constraint on the element's shape, for
	// lists and maps that requests use.
	Constraint *Constraint
}

// collectionShape is implemented by generated list and map types with traits.
type collectionShape interface {
	AWSCollection() Collection
}

// TargetShape is the last dotted element of TargetPrefix: the name of
// the Smithy service shape, which SDKs generated from Smithy models send
// as the X-Amz-Target prefix where botocore sends the whole prefix
// (CloudTrail_20131101 for com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101).
func (s *Service) TargetShape() string {
	return s.TargetPrefix[strings.LastIndexByte(s.TargetPrefix, '.')+1:]
}

// SplitTarget splits an X-Amz-Target header into its service prefix and
// operation name, at its last dot: some prefixes have dots of their own.
func SplitTarget(target string) (prefix, operation string, ok bool) {
	i := strings.LastIndexByte(target, '.')
	if i < 0 {
		return "", "", false
	}
	return target[:i], target[i+1:], true
}

// Operation is the service's operation named name; nil when it has none.
func (s *Service) Operation(name string) *Operation {
	for i := range s.Operations {
		if s.Operations[i].Name == name {
			return &s.Operations[i]
		}
	}
	return nil
}

// Speaks reports whether the service's model lists the protocol.
func (s *Service) Speaks(protocol string) bool {
	for _, p := range s.Protocols {
		if p == protocol {
			return true
		}
	}
	return false
}
