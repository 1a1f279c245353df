package policy

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *Document
	}{
		{
			name: "statement object, strings",
			doc:  `{"Version":"2012-10-17","Id":"p1","Statement":{"Sid":"A","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`,
			want: &Document{Version: "2012-10-17", ID: "p1", Statement: []Statement{{Sid: "A", Effect: Allow, Principal: &Principals{All: true},
				Action: []string{"s3:GetObject"}, Resource: []string{"arn:aws:s3:::b/*"}}}},
		},
		{
			name: "statement list, lists, principals by type",
			doc: `{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["123456789012","arn:aws:iam::123456789012:user/u"],"Service":"ecs.amazonaws.com","Federated":"cognito-identity.amazonaws.com","CanonicalUser":"abc"},
				"NotAction":["s3:*","ecr:*"],"NotResource":[]}]}`,
			want: &Document{Statement: []Statement{{Effect: Deny,
				NotPrincipal: &Principals{AWS: []string{"123456789012", "arn:aws:iam::123456789012:user/u"}, Service: []string{"ecs.amazonaws.com"},
					Federated: []string{"cognito-identity.amazonaws.com"}, CanonicalUser: []string{"abc"}},
				NotAction: []string{"s3:*", "ecr:*"}, NotResource: []string{}}}},
		},
		{
			name: "condition values of every type, sorted",
			doc:  `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"b":"x","A":["y","z"]},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10.5}}}}`,
			want: &Document{Statement: []Statement{{Effect: Allow, Action: []string{"*"}, Condition: []Condition{
				{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
				{Operator: "NumericLessThan", Key: "s3:max-keys", Values: []string{"10.5"}},
				{Operator: "StringEquals", Key: "A", Values: []string{"y", "z"}},
				{Operator: "StringEquals", Key: "b", Values: []string{"x"}},
			}}}},
		},
		{
			name: "a duplicate key keeps its last value",
			doc:  `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Effect":"Deny"}}`,
			want: &Document{Statement: []Statement{{Effect: Deny, Action: []string{"s3:GetObject"}}}},
		},
		{
			name: "unknown elements are ignored",
			doc:  `{"Extra":true,"Statement":{"Effect":"Allow","Action":"*","Note":"x"}}`,
			want: &Document{Statement: []Statement{{Effect: Allow, Action: []string{"*"}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(Condition{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		json      bool // the fault is text that is not a JSON object
	}{
		{"not json", `{`, true},
		{"not an object", `"x"`, true},
		{"trailing data", `{"Statement":{"Effect":"Allow","Action":"*"}} x`, true},
		{"no statement", `{}`, false},
		{"empty statement", `{"Statement":[]}`, false},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"*"}}`, false},
		{"action a number", `{"Statement":{"Effect":"Allow","Action":1}}`, false},
		{"principal a word", `{"Statement":{"Effect":"Allow","Action":"*","Principal":"me"}}`, false},
		{"condition value an object", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"Bool":{"k":{}}}}}`, false},
		{"version a number", `{"Version":1,"Statement":{"Effect":"Allow","Action":"*"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.doc)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if got := errors.Is(err, ErrInvalidJSON); got != tt.json {
				t.Errorf("errors.Is(err, ErrInvalidJSON): got %v, want %v", got, tt.json)
			}
		})
	}
}
