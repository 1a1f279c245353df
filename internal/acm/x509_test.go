package acm

import (
	"crypto/x509"
	"math/big"
	"testing"
)

func TestSignatureAlgorithm(t *testing.T) {
	tests := []struct {
		alg  x509.SignatureAlgorithm
		want string
	}{
		{x509.SHA256WithRSA, "SHA256WITHRSA"},
		{x509.SHA384WithRSA, "SHA384WITHRSA"},
		{x509.ECDSAWithSHA256, "SHA256WITHECDSA"},
		{x509.ECDSAWithSHA384, "SHA384WITHECDSA"},
		{x509.SHA256WithRSAPSS, "SHA256WITHRSASSA-PSS"},
		{x509.PureEd25519, "ED25519"},
	}
	for _, tt := range tests {
		if got := signatureAlgorithm(&x509.Certificate{SignatureAlgorithm: tt.alg}); got != tt.want {
			t.Errorf("%v: got %s, want %s", tt.alg, got, tt.want)
		}
	}
}

func TestSerial(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "00"},
		{42, "2a"},
		{0x0fac, "0f:ac"},
		{0x0102030405, "01:02:03:04:05"},
	}
	for _, tt := range tests {
		if got := serial(&x509.Certificate{SerialNumber: big.NewInt(tt.n)}); got != tt.want {
			t.Errorf("%#x: got %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestDomainPattern(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"example.com", true},
		{"*.example.com", true},
		{"a-b.c.example.co", true},
		{"localhost", false},
		{"-a.example.com", false},
		{"a-.example.com", false},
		{"*.*.example.com", false},
		{"foo.*.example.com", false},
		{"example.com.", false},
	}
	for _, tt := range tests {
		if got := domainPattern.MatchString(tt.name); got != tt.ok {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.ok)
		}
	}
}
