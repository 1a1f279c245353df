// Package samltest is a SAML 2.0 identity provider for tests: a signing key
// and certificate, the metadata that publishes them, and signed responses.
package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// IdP is an identity provider named EntityID.
type IdP struct {
	EntityID string
	cert     tls.Certificate
}

// NewIdP makes an IdP with a new RSA key and a self-signed certificate
// valid for a day around now.
func NewIdP(t testing.TB, entityID string) *IdP {
	t.Helper()
	idp, err := GenerateIdP(entityID)
	if err != nil {
		t.Fatal(err)
	}
	return idp
}

// GenerateIdP is NewIdP outside a test.
func GenerateIdP(entityID string) (*IdP, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: entityID},
		NotBefore: time.Now().Add(-12 * time.Hour), NotAfter: time.Now().Add(12 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &IdP{EntityID: entityID, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}, nil
}

// Metadata is the IdP's metadata document, as IAM's CreateSAMLProvider
// takes it.
func (idp *IdP) Metadata() string {
	return fmt.Sprintf(`<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s" validUntil="%s">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`, idp.EntityID, time.Now().Add(365*24*time.Hour).UTC().Format(time.RFC3339),
		base64.StdEncoding.EncodeToString(idp.cert.Certificate[0]))
}

// Assertion is what a response asserts; zero fields take defaults.
type Assertion struct {
	Subject       string
	SubjectFormat string // default persistent
	Audience      string // default https://signin.aws.amazon.com/saml
	NotBefore     time.Time
	NotOnOrAfter  time.Time // default five minutes from now
	// Roles are the values of the Role attribute: "<role ARN>,<provider ARN>".
	Roles       []string
	SessionName string
	// Tamper changes the subject after signing.
	Tamper bool
}

// Response is a base64 SAML response carrying a, with the assertion signed.
func (idp *IdP) Response(t testing.TB, a Assertion) string {
	t.Helper()
	r, err := idp.Sign(a)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Sign is Response outside a test.
func (idp *IdP) Sign(a Assertion) (string, error) {
	now := time.Now().UTC()
	if a.SubjectFormat == "" {
		a.SubjectFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	}
	if a.Audience == "" {
		a.Audience = "https://signin.aws.amazon.com/saml"
	}
	if a.NotBefore.IsZero() {
		a.NotBefore = now.Add(-time.Minute)
	}
	if a.NotOnOrAfter.IsZero() {
		a.NotOnOrAfter = now.Add(5 * time.Minute)
	}
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }

	doc := etree.NewDocument()
	resp := doc.CreateElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
	resp.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	resp.CreateAttr("ID", "_response1")
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", stamp(now))
	resp.CreateAttr("Destination", "https://signin.aws.amazon.com/saml")
	resp.CreateElement("saml:Issuer").SetText(idp.EntityID)
	resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")

	as := etree.NewElement("saml:Assertion")
	as.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	as.CreateAttr("ID", "_assertion1")
	as.CreateAttr("Version", "2.0")
	as.CreateAttr("IssueInstant", stamp(now))
	as.CreateElement("saml:Issuer").SetText(idp.EntityID)
	subject := as.CreateElement("saml:Subject")
	nameID := subject.CreateElement("saml:NameID")
	nameID.CreateAttr("Format", a.SubjectFormat)
	nameID.SetText(a.Subject)
	sc := subject.CreateElement("saml:SubjectConfirmation")
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("NotOnOrAfter", stamp(a.NotOnOrAfter))
	scd.CreateAttr("Recipient", "https://signin.aws.amazon.com/saml")
	cond := as.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", stamp(a.NotBefore))
	cond.CreateAttr("NotOnOrAfter", stamp(a.NotOnOrAfter))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(a.Audience)
	attrs := as.CreateElement("saml:AttributeStatement")
	attribute := func(name string, values ...string) {
		at := attrs.CreateElement("saml:Attribute")
		at.CreateAttr("Name", name)
		for _, v := range values {
			at.CreateElement("saml:AttributeValue").SetText(v)
		}
	}
	attribute("https://aws.amazon.com/SAML/Attributes/Role", a.Roles...)
	if a.SessionName != "" {
		attribute("https://aws.amazon.com/SAML/Attributes/RoleSessionName", a.SessionName)
	}

	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(idp.cert))
	signed, err := ctx.SignEnveloped(as)
	if err != nil {
		return "", err
	}
	if a.Tamper {
		signed.FindElement("./Subject/NameID").SetText("admin")
	}
	resp.AddChild(signed)
	b, err := doc.WriteToBytes()
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}
