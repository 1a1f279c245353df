// Package botocore reads botocore's service models (service-2.json): the
// operations, shapes and traits the code generator turns into the wire
// layer's Go types, and the protocol test suites describe their cases in.
package botocore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Model is a botocore service-2.json document, reduced to what the wire
// layer needs. Documentation is dropped on purpose: the generated code is for
// machines, and the models stay the reference for people.
type Model struct {
	Metadata   Metadata             `json:"metadata"`
	Operations map[string]Operation `json:"operations"`
	Shapes     map[string]*Shape    `json:"shapes"`
}

// Metadata is the service-wide part of a model.
type Metadata struct {
	APIVersion         string          `json:"apiVersion"`
	EndpointPrefix     string          `json:"endpointPrefix"`
	Protocol           string          `json:"protocol"`
	Protocols          []string        `json:"protocols"`
	JSONVersion        string          `json:"jsonVersion"`
	ServiceID          string          `json:"serviceId"`
	ServiceFullName    string          `json:"serviceFullName"`
	SigningName        string          `json:"signingName"`
	TargetPrefix       string          `json:"targetPrefix"`
	XMLNamespace       string          `json:"xmlNamespace"`
	AWSQueryCompatible json.RawMessage `json:"awsQueryCompatible"`
	GlobalEndpoint     string          `json:"globalEndpoint"`
}

// Operation is one API operation.
type Operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input    *Ref     `json:"input"`
	Output   *Ref     `json:"output"`
	Errors   []Ref    `json:"errors"`
	AuthType string   `json:"authtype"`
	Auth     []string `json:"auth"`
	Endpoint *struct {
		HostPrefix string `json:"hostPrefix"`
	} `json:"endpoint"`
	HTTPChecksumRequired bool `json:"httpChecksumRequired"`
}

// XMLNamespace is botocore's xmlNamespace trait, which is either a bare URI
// string (shape level) or an object with a prefix (member level).
type XMLNamespace struct {
	Prefix string `json:"prefix"`
	URI    string `json:"uri"`
}

func (ns *XMLNamespace) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		ns.URI = s
		return nil
	}
	type plain XMLNamespace
	return json.Unmarshal(b, (*plain)(ns))
}

// Ref is a reference to a shape with the traits the reference adds: a
// structure member, a list member, a map key or value, an operation's
// input or output.
type Ref struct {
	Shape           string        `json:"shape"`
	Location        string        `json:"location"`
	LocationName    string        `json:"locationName"`
	QueryName       string        `json:"queryName"`
	Flattened       bool          `json:"flattened"`
	XMLNamespace    *XMLNamespace `json:"xmlNamespace"`
	XMLAttribute    bool          `json:"xmlAttribute"`
	TimestampFormat string        `json:"timestampFormat"`
	JSONValue       bool          `json:"jsonvalue"`
	IdempotencyTok  bool          `json:"idempotencyToken"`
	HostLabel       bool          `json:"hostLabel"`
	Streaming       bool          `json:"streaming"`
	EventPayload    bool          `json:"eventpayload"`
	ResultWrapper   string        `json:"resultWrapper"`
	// QueryCompatName is the member's name in the query protocol of a
	// JSON service that also serves query, where it differs from its
	// JSON name (SQS's Attributes are Attribute.N in query).
	QueryCompatName string `json:"-"`
}

// Shape is one named shape.
type Shape struct {
	Type            string            `json:"type"`
	Members         map[string]*Ref   `json:"members"`
	MemberOrder     []string          `json:"-"`
	Required        []string          `json:"required"`
	Payload         string            `json:"payload"`
	Member          *Ref              `json:"member"`
	Key             *Ref              `json:"key"`
	Value           *Ref              `json:"value"`
	Flattened       bool              `json:"flattened"`
	LocationName    string            `json:"locationName"`
	XMLNamespace    *XMLNamespace     `json:"xmlNamespace"`
	TimestampFormat string            `json:"timestampFormat"`
	Streaming       bool              `json:"streaming"`
	RequiresLength  bool              `json:"requiresLength"`
	Enum            []string          `json:"enum"`
	Min             *float64          `json:"min"`
	Max             *float64          `json:"max"`
	Pattern         string            `json:"pattern"`
	Sensitive       bool              `json:"sensitive"`
	Union           bool              `json:"union"`
	Document        bool              `json:"document"`
	Exception       bool              `json:"exception"`
	Fault           bool              `json:"fault"`
	Event           bool              `json:"event"`
	EventStream     bool              `json:"eventstream"`
	Error           *ShapeErrorTraits `json:"error"`
}

// ShapeErrorTraits is the error trait of an exception shape.
type ShapeErrorTraits struct {
	Code           string `json:"code"`
	HTTPStatusCode int    `json:"httpStatusCode"`
	SenderFault    bool   `json:"senderFault"`
}

// UnmarshalJSON keeps the members' declaration order, which is the order
// AWS serializes them in and the order the generated fields follow.
func (s *Shape) UnmarshalJSON(b []byte) error {
	type plain Shape
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	var raw struct {
		Members json.RawMessage `json:"members"`
	}
	if err := json.Unmarshal(b, &raw); err != nil || len(raw.Members) == 0 {
		return err
	}
	order, err := objectKeys(raw.Members)
	s.MemberOrder = order
	return err
}

// objectKeys returns the keys of a JSON object in document order.
func objectKeys(b []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, t.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// LoadModel reads the newest API version of a service from a botocore data
// directory laid out as <dir>/<service>/<api-version>/service-2.json.
func LoadModel(serviceDir string) (*Model, error) {
	versions, err := filepath.Glob(filepath.Join(serviceDir, "*", "service-2.json"))
	if err != nil {
		return nil, err
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("gen: no service-2.json under %s", serviceDir)
	}
	sort.Strings(versions)
	b, err := os.ReadFile(versions[len(versions)-1])
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("gen: %s: %w", versions[len(versions)-1], err)
	}
	return &m, nil
}
