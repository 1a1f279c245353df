// Package saml reads what AWS's SAML 2.0 federation needs: an identity
// provider's metadata (its signing certificates) and the signed SAML
// responses a user's browser carries to AssumeRoleWithSAML.
//
// XML signatures are verified by goxmldsig, which canonicalizes and checks
// the signed element; everything this package reads of a response comes
// from the element that verification returns, never from the document as
// received, so that unsigned content wrapped around a signed assertion is
// never believed.
package saml

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Errors of ParseResponse, for the caller to word as its API does.
var (
	ErrMalformed    = errors.New("saml: not a SAML 2.0 response")
	ErrSignature    = errors.New("saml: signature invalid")
	ErrExpired      = errors.New("saml: assertion expired")
	ErrNotYetValid  = errors.New("saml: assertion not yet valid")
	ErrBadAudience  = errors.New("saml: assertion is for another audience")
	ErrFailedStatus = errors.New("saml: response reports a failure")
)

// Metadata is what an identity provider's metadata says of it.
type Metadata struct {
	EntityID string
	// Certificates are the IdP's signing certificates.
	Certificates []*x509.Certificate
	// ValidUntil is zero when the document does not say.
	ValidUntil time.Time
}

// ParseMetadata reads an EntityDescriptor with an IDPSSODescriptor.
func ParseMetadata(doc string) (Metadata, error) {
	d := etree.NewDocument()
	if err := d.ReadFromString(doc); err != nil {
		return Metadata{}, fmt.Errorf("saml: metadata: %w", err)
	}
	root := d.Root()
	if root == nil || root.Tag != "EntityDescriptor" {
		return Metadata{}, errors.New("saml: metadata: no EntityDescriptor")
	}
	md := Metadata{EntityID: root.SelectAttrValue("entityID", "")}
	if v := root.SelectAttrValue("validUntil", ""); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return Metadata{}, fmt.Errorf("saml: metadata: validUntil: %w", err)
		}
		md.ValidUntil = t
	}
	idp := root.FindElement("./IDPSSODescriptor")
	if idp == nil {
		return Metadata{}, errors.New("saml: metadata: no IDPSSODescriptor")
	}
	for _, kd := range idp.FindElements("./KeyDescriptor") {
		if use := kd.SelectAttrValue("use", "signing"); use != "signing" {
			continue
		}
		for _, c := range kd.FindElements(".//X509Certificate") {
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Text()), ""))
			if err != nil {
				return Metadata{}, fmt.Errorf("saml: metadata: certificate: %w", err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return Metadata{}, fmt.Errorf("saml: metadata: certificate: %w", err)
			}
			md.Certificates = append(md.Certificates, cert)
		}
	}
	if md.EntityID == "" || len(md.Certificates) == 0 {
		return Metadata{}, errors.New("saml: metadata: no entityID or no signing certificate")
	}
	return md, nil
}

// Assertion is what a verified response asserts.
type Assertion struct {
	Issuer        string
	Subject       string // the NameID
	SubjectFormat string // the NameID's Format
	Recipient     string // where the assertion is to be presented
	Audiences     []string
	NotBefore     time.Time
	NotOnOrAfter  time.Time
	// Attributes by name, each with its values.
	Attributes map[string][]string
}

// Options are what ParseResponse checks a response against.
type Options struct {
	Certificates []*x509.Certificate
	Now          time.Time
	// Audience must be among the assertion's audiences.
	Audience string
}

// ParseResponse decodes a base64 SAML response, verifies its signature (of
// the response or of its assertion) with one of the certificates, and
// checks its status, audience and validity period.
func ParseResponse(b64 string, opts Options) (*Assertion, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, ErrMalformed
	}
	d := etree.NewDocument()
	if err := d.ReadFromBytes(raw); err != nil {
		return nil, ErrMalformed
	}
	resp := d.Root()
	if resp == nil || resp.Tag != "Response" {
		return nil, ErrMalformed
	}
	vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: opts.Certificates})
	vc.Clock = dsig.NewFakeClockAt(opts.Now)
	var assertion *etree.Element
	if resp.FindElement("./Signature") != nil {
		verified, err := vc.Validate(resp)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		resp = verified
		assertion = resp.FindElement("./Assertion")
	} else if a := resp.FindElement("./Assertion"); a != nil {
		verified, err := vc.Validate(a)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		assertion = verified
	}
	if assertion == nil {
		return nil, ErrMalformed
	}
	if code := resp.FindElement("./Status/StatusCode"); code != nil &&
		code.SelectAttrValue("Value", "") != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		return nil, ErrFailedStatus
	}
	return readAssertion(assertion, opts)
}

func readAssertion(a *etree.Element, opts Options) (*Assertion, error) {
	out := &Assertion{Attributes: map[string][]string{}}
	if e := a.FindElement("./Issuer"); e != nil {
		out.Issuer = strings.TrimSpace(e.Text())
	}
	if e := a.FindElement("./Subject/NameID"); e != nil {
		out.Subject = strings.TrimSpace(e.Text())
		out.SubjectFormat = e.SelectAttrValue("Format", "")
	}
	var expiries []time.Time
	if e := a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData"); e != nil {
		out.Recipient = e.SelectAttrValue("Recipient", "")
		t, err := optionalTime(e, "NotOnOrAfter")
		if err != nil {
			return nil, err
		}
		expiries = append(expiries, t)
	}
	if c := a.FindElement("./Conditions"); c != nil {
		var err error
		if out.NotBefore, err = optionalTime(c, "NotBefore"); err != nil {
			return nil, err
		}
		if out.NotOnOrAfter, err = optionalTime(c, "NotOnOrAfter"); err != nil {
			return nil, err
		}
		for _, aud := range c.FindElements("./AudienceRestriction/Audience") {
			out.Audiences = append(out.Audiences, strings.TrimSpace(aud.Text()))
		}
	}
	for _, attr := range a.FindElements("./AttributeStatement/Attribute") {
		name := attr.SelectAttrValue("Name", "")
		for _, v := range attr.FindElements("./AttributeValue") {
			out.Attributes[name] = append(out.Attributes[name], strings.TrimSpace(v.Text()))
		}
	}
	for _, t := range append(expiries, out.NotOnOrAfter) {
		if !t.IsZero() && !opts.Now.Before(t) {
			return nil, ErrExpired
		}
	}
	if !out.NotBefore.IsZero() && opts.Now.Before(out.NotBefore) {
		return nil, ErrNotYetValid
	}
	if opts.Audience != "" && !slices.Contains(out.Audiences, opts.Audience) {
		return nil, ErrBadAudience
	}
	return out, nil
}

func optionalTime(e *etree.Element, attr string) (time.Time, error) {
	v := e.SelectAttrValue(attr, "")
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s: %v", ErrMalformed, attr, err)
	}
	return t, nil
}
