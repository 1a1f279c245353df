package sns

import (
	"errors"
	"strings"
	"testing"

	api "overcast/internal/api/sns"
)

func TestFilterPolicyOnAttributes(t *testing.T) {
	attrs := map[string]Attribute{
		"store":    {DataType: "String", StringValue: "example_corp"},
		"event":    {DataType: "String", StringValue: "order_placed"},
		"price":    {DataType: "Number", StringValue: "210.75"},
		"customer": {DataType: "String.Array", StringValue: `["gold", "vip", 7]`},
		"source":   {DataType: "String", StringValue: "10.0.3.7"},
		"blob":     {DataType: "Binary", BinaryValue: []byte{1}},
		"label":    {DataType: "String.custom", StringValue: "Mixed-Case"},
	}
	tests := []struct {
		policy string
		want   bool
	}{
		{`{"store":["example_corp"]}`, true},
		{`{"store":["other"]}`, false},
		{`{"store":["example_corp"],"event":["order_cancelled"]}`, false}, // keys AND
		{`{"store":["other","example_corp"]}`, true},                      // values OR
		{`{"missing":["x"]}`, false},
		{`{"price":[210.75]}`, true},
		{`{"price":["210.75"]}`, false}, // a Number attribute matches numbers
		{`{"price":[{"numeric":[">",100,"<=",210.75]}]}`, true},
		{`{"price":[{"numeric":["<",100]}]}`, false},
		{`{"price":[{"numeric":["=",210.75]}]}`, true},
		{`{"store":[{"numeric":[">",0]}]}`, false},
		{`{"event":[{"prefix":"order_"}]}`, true},
		{`{"event":[{"suffix":"_placed"}]}`, true},
		{`{"event":[{"suffix":"_shipped"}]}`, false},
		{`{"label":[{"equals-ignore-case":"mixed-case"}]}`, true},
		{`{"event":[{"anything-but":"order_cancelled"}]}`, true},
		{`{"event":[{"anything-but":["order_placed","x"]}]}`, false},
		{`{"event":[{"anything-but":{"prefix":"order"}}]}`, false},
		{`{"missing":[{"anything-but":"x"}]}`, false}, // anything-but needs the key
		{`{"customer":["vip"]}`, true},                // any element of an array
		{`{"customer":[7]}`, true},
		{`{"customer":[{"anything-but":"vip"}]}`, false}, // every element must differ
		{`{"customer":["bronze"]}`, false},
		{`{"blob":[{"exists":true}]}`, true},
		{`{"missing":[{"exists":false}]}`, true},
		{`{"store":[{"exists":false}]}`, false},
		{`{"source":[{"cidr":"10.0.0.0/16"}]}`, true},
		{`{"source":[{"cidr":"10.1.0.0/16"}]}`, false},
		{`{"$or":[{"store":["nope"]},{"price":[{"numeric":[">",200]}]}]}`, true},
		{`{"event":["order_placed"],"$or":[{"store":["nope"]},{"price":[1]}]}`, false},
	}
	for _, tc := range tests {
		p, err := parseFilterPolicy(tc.policy, false)
		if err != nil {
			t.Errorf("%s: %v", tc.policy, err)
			continue
		}
		if got := p.matches(attributeLookup(attrs)); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.policy, got, tc.want)
		}
	}
}

func TestFilterPolicyOnBody(t *testing.T) {
	body := `{"detail":{"state":"FAILED","build":{"number":42}},"tags":["ci","nightly"],"items":[{"sku":"a"},{"sku":"b"}],"note":null}`
	tests := []struct {
		policy string
		want   bool
	}{
		{`{"detail":{"state":["FAILED"]}}`, true},
		{`{"detail":{"state":["SUCCEEDED"]}}`, false},
		{`{"detail":{"build":{"number":[{"numeric":[">=",40]}]}}}`, true},
		{`{"tags":["nightly"]}`, true},
		{`{"items":{"sku":["b"]}}`, true},
		{`{"items":{"sku":["c"]}}`, false},
		{`{"note":[null]}`, true},
		{`{"detail.state":["FAILED"]}`, true}, // a dotted key is a path
		{`{"detail":{"missing":[{"exists":false}]}}`, true},
		{`{"$or":[{"detail":{"state":["X"]}},{"tags":[{"prefix":"ni"}]}]}`, true},
	}
	for _, tc := range tests {
		sub := &subscription{Attributes: map[string]string{attrFilterPolicy: tc.policy, attrFilterPolicyScope: scopeBody}}
		if got := filterAccepts(sub, body, nil); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.policy, got, tc.want)
		}
	}
	sub := &subscription{Attributes: map[string]string{attrFilterPolicy: `{"a":["b"]}`, attrFilterPolicyScope: scopeBody}}
	if filterAccepts(sub, "not json", nil) {
		t.Errorf("a body-scoped policy accepted a body that is not a JSON object")
	}
}

func TestInvalidFilterPolicies(t *testing.T) {
	tests := []struct {
		policy string
		body   bool
		want   string
	}{
		{`{"a":"b"}`, false, `FilterPolicy: "a" must be an object or an array`},
		{`{"a":{"b":["c"]}}`, false, `Filter policy scope MessageAttributes does not support nested filter policy`},
		{`{"a":[]}`, false, "FilterPolicy: Empty arrays are not allowed"},
		{`{}`, false, "FilterPolicy: Empty objects are not allowed"},
		{`{"a":[{"regex":"x"}]}`, false, "FilterPolicy: Unrecognized match type regex"},
		{`{"a":[{"prefix":1}]}`, false, "FilterPolicy: prefix match pattern must be a string"},
		{`{"a":[{"numeric":[]}]}`, false, "FilterPolicy: Invalid member in numeric match: ]"},
		{`{"a":[{"numeric":["~",5]}]}`, false, "FilterPolicy: Unrecognized numeric range operator: ~"},
		{`{"a":[{"numeric":["=","x"]}]}`, false, "FilterPolicy: Value of equals must be numeric"},
		{`{"a":[{"numeric":["<",1,">",0]}]}`, false, "FilterPolicy: Too many elements in numeric expression"},
		{`{"a":[{"numeric":[">",5,"<",1]}]}`, false, "FilterPolicy: Bottom must be less than top"},
		{`{"a":[{"numeric":[">",0,">",1]}]}`, false, "FilterPolicy: Bad numeric range operator: >"},
		{`{"a":[{"cidr":"10.0.0.0/x"}]}`, false, "FilterPolicy: Malformed CIDR, mask bits must be an integer"},
		{`{"a":[{"cidr":"10.0.0.300/8"}]}`, false, "FilterPolicy: Nonstandard IP address: 10.0.0.300"},
		{`{"a":[{"anything-but":{"wildcard":"x"}}]}`, false, "FilterPolicy: Unsupported anything-but pattern: wildcard"},
		{`{"a":{"b":{"c":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26]}},"d":[1,2]}`, true, "FilterPolicy: Filter policy is too complex"},
		{`{"a":[{"exists":"yes"}]}`, false, "FilterPolicy: exists match pattern must be either true or false."},
		{`{"a":[{"prefix":"x","suffix":"y"}]}`, false, "FilterPolicy: Only one key allowed in match expression"},
		{`{"$or":[{"a":["b"]}]}`, false, "FilterPolicy: There must have at least 2 Objects in $or relationship."},
		{`{"a":[1,2,3,4,5,6],"b":[1,2,3,4,5],"c":[1,2,3,4,5,6]}`, false, "FilterPolicy: Filter policy is too complex"},
		{`{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, false, "FilterPolicy: Filter policy can not have more than 5 keys"},
		{`{"a":[{"cidr":"10.0.0.0"}]}`, false, "FilterPolicy: Malformed CIDR, one '/' required"},
		{`not json`, true, "FilterPolicy: failed to parse JSON."},
	}
	for _, tc := range tests {
		_, err := parseFilterPolicy(tc.policy, tc.body)
		var ip *api.InvalidParameterException
		if !errors.As(err, &ip) || ip.Message == nil || !strings.HasPrefix(*ip.Message, "Invalid parameter: "+tc.want) {
			t.Errorf("%s: got %v, want InvalidParameter %q", tc.policy, err, tc.want)
		}
	}
}
