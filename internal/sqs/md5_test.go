package sqs

import "testing"

// The digests AWS returns for these attributes, as peers' test suites pin
// them: the SDKs of Java, .NET and PHP reject any other.
func TestMD5OfAttributes(t *testing.T) {
	number := func(v string) attributeValue { return attributeValue{DataType: "Number", StringValue: v} }
	tests := []struct {
		name  string
		attrs map[string]attributeValue
		want  string
	}{
		{"none", nil, ""},
		{"timestamp", map[string]attributeValue{"timestamp": number("1493147359900")}, "235c5c510d26fb653d073faed50ae77c"},
		{"another value", map[string]attributeValue{"timestamp": number("1493147359901")}, "994258b45346a2cc3f9cbb611aa7af30"},
		{"dotted name", map[string]attributeValue{"SOME_Valid.attribute-Name": number("1493147359900")}, "36655e7e9d7c0e8479fa3f3f42247ae7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := md5OfAttributes(tt.attrs); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got, want := md5Hex("derp"), "58fd9edd83341c29f1aebba81c31e257"; got != want {
		t.Errorf("got body digest %s, want %s", got, want)
	}
}

func TestValidBody(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{"plain text", true},
		{"tab\tnewline\ncarriage\r", true},
		{"replacement \uFFFD and emoji \U0001F600", true},
		{"bell \a", false},
		{"nul \x00", false},
		{"noncharacter \uFFFF", false},
	}
	for _, tt := range tests {
		if got := validBody(tt.body); got != tt.want {
			t.Errorf("validBody(%q): got %v, want %v", tt.body, got, tt.want)
		}
	}
}
