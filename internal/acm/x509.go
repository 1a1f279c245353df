package acm

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	api "overcast/internal/api/acm"
)

// errNotPEM means the bytes hold no PEM block, or something else than
// certificates.
var errNotPEM = errors.New("acm: not PEM-encoded certificates")

// parseCertificates reads every certificate of a PEM bundle, in order.
func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, errNotPEM
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, errNotPEM
	}
	return out, nil
}

// x509 is the certificate's parsed leaf; nil with an error for a
// certificate that has none (a FAILED request).
func (c *certificate) x509() (*x509.Certificate, error) {
	if c.CertPEM == "" {
		return nil, errors.New("acm: no certificate issued")
	}
	certs, err := parseCertificates([]byte(c.CertPEM))
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// keyAlgorithm names a public key as ACM does, or "" for one ACM does not
// take.
func keyAlgorithm(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 1024:
			return api.KeyAlgorithmRSA1024
		case 2048:
			return api.KeyAlgorithmRSA2048
		case 3072:
			return api.KeyAlgorithmRSA3072
		case 4096:
			return api.KeyAlgorithmRSA4096
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return api.KeyAlgorithmECPrime256v1
		case elliptic.P384():
			return api.KeyAlgorithmECSecp384r1
		case elliptic.P521():
			return api.KeyAlgorithmECSecp521r1
		}
	}
	return ""
}

// keyLength is the size of a key ACM does not take, for its message.
func keyLength(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprint(k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprint(k.Curve.Params().BitSize)
	case ed25519.PublicKey:
		return "256"
	}
	return "unknown"
}

// signatureAlgorithm is how ACM writes a certificate's signature algorithm:
// SHA256WITHRSA, SHA384WITHECDSA...
func signatureAlgorithm(c *x509.Certificate) string {
	switch c.SignatureAlgorithm {
	case x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return strings.ToUpper(strings.TrimSuffix(c.SignatureAlgorithm.String(), "-RSAPSS")) + "WITHRSASSA-PSS"
	}
	// Go names them "SHA256-RSA" and "ECDSA-SHA256".
	a, b, ok := strings.Cut(c.SignatureAlgorithm.String(), "-")
	if !ok {
		return strings.ToUpper(a)
	}
	if !strings.HasPrefix(a, "SHA") && !strings.HasPrefix(a, "MD") {
		a, b = b, a
	}
	return strings.ToUpper(a + "WITH" + b)
}

// serial is the serial number as ACM shows it: hex bytes separated by
// colons.
func serial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = hex.EncodeToString([]byte{x})
	}
	return strings.Join(parts, ":")
}

// attributeNames are the short names of the distinguished name attributes
// ACM prints.
var attributeNames = map[string]string{
	"2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
	"2.5.4.5": "SERIALNUMBER", "2.5.4.9": "STREET", "2.5.4.17": "POSTALCODE", "0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.1": "EMAILADDRESS",
}

// distinguishedName prints a name as ACM's Subject does, attributes in the
// certificate's order: "C=US,O=Example,CN=www.example.com".
func distinguishedName(raw []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &seq); err != nil {
		return ""
	}
	var parts []string
	for _, rdn := range seq {
		for _, atv := range rdn {
			name, ok := attributeNames[atv.Type.String()]
			if !ok {
				name = atv.Type.String()
			}
			parts = append(parts, name+"="+fmt.Sprint(atv.Value))
		}
	}
	return strings.Join(parts, ",")
}

// issuerName is ACM's Issuer: the issuing organization ("Amazon"), or its
// common name when it names none.
func issuerName(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	return c.Issuer.CommonName
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, api.KeyUsageNameDIGITALSIGNATURE},
	{x509.KeyUsageContentCommitment, api.KeyUsageNameNONREPUDIATION},
	{x509.KeyUsageKeyEncipherment, api.KeyUsageNameKEYENCIPHERMENT},
	{x509.KeyUsageDataEncipherment, api.KeyUsageNameDATAENCIPHERMENT},
	{x509.KeyUsageKeyAgreement, api.KeyUsageNameKEYAGREEMENT},
	{x509.KeyUsageCertSign, api.KeyUsageNameCERTIFICATESIGNING},
	{x509.KeyUsageCRLSign, api.KeyUsageNameCRLSIGNING},
	{x509.KeyUsageEncipherOnly, api.KeyUsageNameENCIPHERONLY},
	{x509.KeyUsageDecipherOnly, api.KeyUsageNameDECIPHERONLY},
}

func keyUsages(c *x509.Certificate) []string {
	out := []string{}
	for _, u := range keyUsageNames {
		if c.KeyUsage&u.bit != 0 {
			out = append(out, u.name)
		}
	}
	return out
}

var extKeyUsageNames = map[x509.ExtKeyUsage]struct{ name, oid string }{
	x509.ExtKeyUsageServerAuth:      {api.ExtendedKeyUsageNameTLSWEBSERVERAUTHENTICATION, "1.3.6.1.5.5.7.3.1"},
	x509.ExtKeyUsageClientAuth:      {api.ExtendedKeyUsageNameTLSWEBCLIENTAUTHENTICATION, "1.3.6.1.5.5.7.3.2"},
	x509.ExtKeyUsageCodeSigning:     {api.ExtendedKeyUsageNameCODESIGNING, "1.3.6.1.5.5.7.3.3"},
	x509.ExtKeyUsageEmailProtection: {api.ExtendedKeyUsageNameEMAILPROTECTION, "1.3.6.1.5.5.7.3.4"},
	x509.ExtKeyUsageTimeStamping:    {api.ExtendedKeyUsageNameTIMESTAMPING, "1.3.6.1.5.5.7.3.8"},
	x509.ExtKeyUsageOCSPSigning:     {api.ExtendedKeyUsageNameOCSPSIGNING, "1.3.6.1.5.5.7.3.9"},
	x509.ExtKeyUsageIPSECEndSystem:  {api.ExtendedKeyUsageNameIPSECENDSYSTEM, "1.3.6.1.5.5.7.3.5"},
	x509.ExtKeyUsageIPSECTunnel:     {api.ExtendedKeyUsageNameIPSECTUNNEL, "1.3.6.1.5.5.7.3.6"},
	x509.ExtKeyUsageIPSECUser:       {api.ExtendedKeyUsageNameIPSECUSER, "1.3.6.1.5.5.7.3.7"},
	x509.ExtKeyUsageAny:             {api.ExtendedKeyUsageNameANY, "2.5.29.37.0"},
}

func extKeyUsageNamesOf(c *x509.Certificate) []string {
	out := []string{}
	for _, u := range c.ExtKeyUsage {
		if n, ok := extKeyUsageNames[u]; ok {
			out = append(out, n.name)
		}
	}
	for range c.UnknownExtKeyUsage {
		out = append(out, api.ExtendedKeyUsageNameCUSTOM)
	}
	return out
}

func extKeyUsages(c *x509.Certificate) api.ExtendedKeyUsageList {
	out := api.ExtendedKeyUsageList{}
	for _, u := range c.ExtKeyUsage {
		if n, ok := extKeyUsageNames[u]; ok {
			out = append(out, api.ExtendedKeyUsage{Name: new(n.name), OID: new(n.oid)})
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, api.ExtendedKeyUsage{Name: new(api.ExtendedKeyUsageNameCUSTOM), OID: new(oid.String())})
	}
	return out
}

// certificateNames are the names a certificate is for, as ACM reads them:
// its DNS subject alternative names, or its common name when it has none;
// the common name (or first name) is the DomainName.
func certificateNames(c *x509.Certificate) (domain string, names []string) {
	names = append(names, c.DNSNames...)
	domain = c.Subject.CommonName
	if domain == "" && len(names) > 0 {
		domain = names[0]
	}
	if len(names) == 0 && domain != "" {
		names = []string{domain}
	}
	return domain, names
}
