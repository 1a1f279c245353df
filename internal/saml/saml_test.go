package saml_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast/internal/saml"
	"overcast/internal/saml/samltest"
)

const awsAudience = "https://signin.aws.amazon.com/saml"

func TestParseMetadata(t *testing.T) {
	idp := samltest.NewIdP(t, "https://idp.example.com/metadata")
	md, err := saml.ParseMetadata(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	if md.EntityID != idp.EntityID || len(md.Certificates) != 1 || md.ValidUntil.IsZero() {
		t.Errorf("got entity %q, %d certificates, validUntil %v; want %q, 1, a date", md.EntityID, len(md.Certificates), md.ValidUntil, idp.EntityID)
	}
	for name, doc := range map[string]string{
		"not XML":         "metadata",
		"no IdP":          `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`,
		"no certificates": `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><IDPSSODescriptor/></EntityDescriptor>`,
	} {
		if _, err := saml.ParseMetadata(doc); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestParseResponse(t *testing.T) {
	idp := samltest.NewIdP(t, "https://idp.example.com/metadata")
	md, _ := saml.ParseMetadata(idp.Metadata())
	opts := saml.Options{Certificates: md.Certificates, Now: time.Now(), Audience: awsAudience}
	roles := []string{"arn:aws:iam::123456789012:role/dev,arn:aws:iam::123456789012:saml-provider/corp"}

	a, err := saml.ParseResponse(idp.Response(t, samltest.Assertion{Subject: "alice", Roles: roles, SessionName: "alice"}), opts)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{a.Issuer, a.Subject, a.SubjectFormat, a.Recipient, a.Audiences, a.Attributes["https://aws.amazon.com/SAML/Attributes/Role"]}
	want := []any{idp.EntityID, "alice", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", awsAudience, []string{awsAudience}, roles}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("assertion (-want +got):\n%s", diff)
	}

	other := samltest.NewIdP(t, "https://other.example.com")
	tests := []struct {
		name     string
		response string
		want     error
	}{
		{"tampered", idp.Response(t, samltest.Assertion{Subject: "alice", Roles: roles, Tamper: true}), saml.ErrSignature},
		{"another IdP's signature", other.Response(t, samltest.Assertion{Subject: "alice", Roles: roles}), saml.ErrSignature},
		{"expired", idp.Response(t, samltest.Assertion{Subject: "alice", Roles: roles, NotOnOrAfter: time.Now().Add(-time.Minute)}), saml.ErrExpired},
		{"not yet valid", idp.Response(t, samltest.Assertion{Subject: "alice", Roles: roles, NotBefore: time.Now().Add(time.Hour),
			NotOnOrAfter: time.Now().Add(2 * time.Hour)}), saml.ErrNotYetValid},
		{"another audience", idp.Response(t, samltest.Assertion{Subject: "alice", Roles: roles, Audience: "https://app.example.com"}), saml.ErrBadAudience},
		{"not base64", "<Response/>", saml.ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := saml.ParseResponse(tt.response, opts); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}
