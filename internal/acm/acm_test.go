package acm_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/google/go-cmp/cmp"

	acmsvc "overcast/internal/acm"
	"overcast/internal/awstest"
	"overcast/internal/clock"
)

var testNow = time.Date(2026, 3, 10, 15, 4, 5, 0, time.UTC)

func start(t *testing.T) (*awstest.Server, *acm.Client) {
	srv, c, _ := startClock(t)
	return srv, c
}

func startClock(t *testing.T) (*awstest.Server, *acm.Client, *clock.Fake) {
	t.Helper()
	return awstest.StartClient(t, testNow, acm.NewFromConfig)
}

var (
	arnPattern    = regexp.MustCompile(`^arn:aws:acm:us-east-1:000000000000:certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	serialPattern = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){15}$`)
	recordName    = regexp.MustCompile(`^_[0-9a-f]{32}\.example\.com\.$`)
	recordValue   = regexp.MustCompile(`^_[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.$`)
)

func TestRequestIssuesAtOnce(t *testing.T) {
	_, c := start(t)
	out := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("example.com"),
		SubjectAlternativeNames: []string{"*.example.com", "example.com"}, ValidationMethod: types.ValidationMethodDns,
		IdempotencyToken: aws.String("tok1"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})
	arn := aws.ToString(out.CertificateArn)
	if !arnPattern.MatchString(arn) {
		t.Fatalf("CertificateArn: got %s, want arn:aws:acm:us-east-1:000000000000:certificate/<uuid>", arn)
	}
	again := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("example.com"),
		SubjectAlternativeNames: []string{"*.example.com"}, IdempotencyToken: aws.String("tok1")})
	if got := aws.ToString(again.CertificateArn); got != arn {
		t.Errorf("same IdempotencyToken: got %s, want the first certificate %s", got, arn)
	}

	d := awstest.Call(t, c.DescribeCertificate, &acm.DescribeCertificateInput{CertificateArn: out.CertificateArn}).Certificate
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	got := []any{d.Status, d.Type, aws.ToString(d.DomainName), d.SubjectAlternativeNames, aws.ToString(d.Subject), aws.ToString(d.Issuer),
		d.KeyAlgorithm, aws.ToString(d.SignatureAlgorithm), d.InUseBy, d.RenewalEligibility, *d.CreatedAt, *d.IssuedAt, d.ImportedAt,
		*d.NotBefore, *d.NotAfter, d.Options.CertificateTransparencyLoggingPreference, d.Options.Export}
	want := []any{types.CertificateStatusIssued, types.CertificateTypeAmazonIssued, "example.com", []string{"example.com", "*.example.com"},
		"CN=example.com", "Overcast", types.KeyAlgorithm("RSA-2048"), "SHA256WITHRSA", []string{}, types.RenewalEligibilityIneligible, testNow, testNow,
		(*time.Time)(nil), day, day.Add(395*24*time.Hour - time.Second), types.CertificateTransparencyLoggingPreferenceEnabled, types.CertificateExportDisabled}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DescribeCertificate (-want +got):\n%s", diff)
	}
	if !serialPattern.MatchString(aws.ToString(d.Serial)) {
		t.Errorf("Serial: got %q, want 16 colon-separated hex bytes", aws.ToString(d.Serial))
	}
	if len(d.DomainValidationOptions) != 2 {
		t.Fatalf("DomainValidationOptions: got %d, want one per name", len(d.DomainValidationOptions))
	}
	for i, v := range d.DomainValidationOptions {
		if v.ValidationStatus != types.DomainStatusSuccess || v.ValidationMethod != types.ValidationMethodDns ||
			v.ResourceRecord == nil || v.ResourceRecord.Type != types.RecordTypeCname ||
			!recordName.MatchString(aws.ToString(v.ResourceRecord.Name)) || !recordValue.MatchString(aws.ToString(v.ResourceRecord.Value)) {
			t.Errorf("DomainValidationOptions[%d]: got %s %s %s %+v, want SUCCESS by a DNS CNAME", i, aws.ToString(v.DomainName), v.ValidationStatus, v.ValidationMethod, v.ResourceRecord)
		}
	}
	// A wildcard validates with its base domain's record.
	if a, b := d.DomainValidationOptions[0].ResourceRecord, d.DomainValidationOptions[1].ResourceRecord; *a.Name != *b.Name || *a.Value != *b.Value {
		t.Errorf("example.com and *.example.com records differ: %s %s / %s %s", *a.Name, *a.Value, *b.Name, *b.Value)
	}
	wantEKU := []string{"TLS_WEB_SERVER_AUTHENTICATION", "TLS_WEB_CLIENT_AUTHENTICATION"}
	var gotEKU []string
	for _, u := range d.ExtendedKeyUsages {
		gotEKU = append(gotEKU, string(u.Name))
	}
	if !slices.Equal(gotEKU, wantEKU) {
		t.Errorf("ExtendedKeyUsages: got %v, want %v", gotEKU, wantEKU)
	}

	tags := awstest.Call(t, c.ListTagsForCertificate, &acm.ListTagsForCertificateInput{CertificateArn: out.CertificateArn})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "web" {
		t.Errorf("tags: got %+v, want team=web", tags.Tags)
	}
}

func TestRequestEmailAndECDSA(t *testing.T) {
	_, c := start(t)
	out := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("*.apps.example.org"),
		ValidationMethod: types.ValidationMethodEmail, KeyAlgorithm: types.KeyAlgorithmEcPrime256v1,
		DomainValidationOptions: []types.DomainValidationOption{{DomainName: aws.String("*.apps.example.org"), ValidationDomain: aws.String("example.org")}}})
	d := awstest.Call(t, c.DescribeCertificate, &acm.DescribeCertificateInput{CertificateArn: out.CertificateArn}).Certificate
	if d.KeyAlgorithm != "EC-prime256v1" { // ACM's answers spell them with a hyphen
		t.Errorf("KeyAlgorithm: got %s, want EC-prime256v1", d.KeyAlgorithm)
	}
	v := d.DomainValidationOptions[0]
	want := []string{"admin@example.org", "administrator@example.org", "hostmaster@example.org", "postmaster@example.org", "webmaster@example.org"}
	if diff := cmp.Diff(want, v.ValidationEmails); diff != "" || aws.ToString(v.ValidationDomain) != "example.org" || v.ResourceRecord != nil {
		t.Errorf("EMAIL validation: domain %s record %+v, emails (-want +got):\n%s", aws.ToString(v.ValidationDomain), v.ResourceRecord, diff)
	}
	got := awstest.Call(t, c.GetCertificate, &acm.GetCertificateInput{CertificateArn: out.CertificateArn})
	leaf := parseCert(t, aws.ToString(got.Certificate))
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !slices.Equal(leaf.DNSNames, []string{"*.apps.example.org"}) {
		t.Errorf("issued certificate: key %T names %v, want an ECDSA key for *.apps.example.org", leaf.PublicKey, leaf.DNSNames)
	}
}

// TestCAFileAndURL: the root is one per data dir, served on the gateway
// and written to the documented file, the same after a restart; issued
// certificates verify against it.
func TestCAFileAndURL(t *testing.T) {
	srv, c := start(t)
	out := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("www.example.net")})
	caPEM := fetchCA(t, srv.URL)
	file, err := os.ReadFile(filepath.Join(srv.DataDir, acmsvc.CAFile))
	if err != nil || string(file) != caPEM {
		t.Errorf("%s: got %q (%v), want the served root", acmsvc.CAFile, file, err)
	}
	got := awstest.Call(t, c.GetCertificate, &acm.GetCertificateInput{CertificateArn: out.CertificateArn})
	if aws.ToString(got.CertificateChain) != caPEM {
		t.Errorf("CertificateChain: got %q, want the root", aws.ToString(got.CertificateChain))
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(caPEM))
	leaf := parseCert(t, aws.ToString(got.Certificate))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "www.example.net", CurrentTime: testNow}); err != nil {
		t.Errorf("issued certificate does not verify against the served root: %v", err)
	}

	os.Remove(filepath.Join(srv.DataDir, acmsvc.CAFile))
	srv.Restart(t)
	if file, err := os.ReadFile(filepath.Join(srv.DataDir, acmsvc.CAFile)); err != nil || string(file) != caPEM {
		t.Errorf("%s after a restart: got %q (%v), want it written again at start", acmsvc.CAFile, file, err)
	}
	if again := fetchCA(t, srv.URL); again != caPEM {
		t.Errorf("root after a restart: got another one")
	}
}

func fetchCA(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + acmsvc.CAPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", acmsvc.CAPath, resp.Status, body)
	}
	root := parseCert(t, string(body))
	if !root.IsCA || root.Subject.CommonName != "Overcast Local Root CA" {
		t.Errorf("served root: IsCA %v subject %s", root.IsCA, root.Subject)
	}
	return string(body)
}

func parseCert(t *testing.T, s string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		t.Fatalf("not PEM: %q", s)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// selfSigned makes a certificate and its key, PEM-encoded, for imports.
func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example Org"}, Country: []string{"US"}},
		DNSNames: []string{cn, "alt." + cn}, NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func TestImport(t *testing.T) {
	_, c := start(t)
	cert, key := selfSigned(t, "imported.example.com", testNow.Add(-time.Hour), testNow.Add(90*24*time.Hour))
	out := awstest.Call(t, c.ImportCertificate, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: key,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}})
	d := awstest.Call(t, c.DescribeCertificate, &acm.DescribeCertificateInput{CertificateArn: out.CertificateArn}).Certificate
	got := []any{d.Type, d.Status, aws.ToString(d.DomainName), d.SubjectAlternativeNames, aws.ToString(d.Subject), aws.ToString(d.Issuer),
		d.KeyAlgorithm, aws.ToString(d.SignatureAlgorithm), aws.ToString(d.Serial), *d.ImportedAt, d.CreatedAt, d.RenewalEligibility}
	want := []any{types.CertificateTypeImported, types.CertificateStatusIssued, "imported.example.com",
		[]string{"imported.example.com", "alt.imported.example.com"}, "C=US,O=Example Org,CN=imported.example.com", "Example Org",
		types.KeyAlgorithm("EC-prime256v1"), "SHA256WITHECDSA", "2a", testNow, (*time.Time)(nil), types.RenewalEligibilityIneligible}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DescribeCertificate of an import (-want +got):\n%s", diff)
	}

	// Re-import in place: same ARN, new certificate.
	cert2, key2 := selfSigned(t, "imported.example.com", testNow.Add(-time.Hour), testNow.Add(200*24*time.Hour))
	again := awstest.Call(t, c.ImportCertificate, &acm.ImportCertificateInput{CertificateArn: out.CertificateArn, Certificate: cert2, PrivateKey: key2})
	if aws.ToString(again.CertificateArn) != aws.ToString(out.CertificateArn) {
		t.Errorf("re-import: got ARN %s, want %s", aws.ToString(again.CertificateArn), aws.ToString(out.CertificateArn))
	}
	got2 := awstest.Call(t, c.GetCertificate, &acm.GetCertificateInput{CertificateArn: out.CertificateArn})
	if aws.ToString(got2.Certificate) != string(cert2) || got2.CertificateChain != nil {
		t.Errorf("GetCertificate after re-import: got %q chain %v, want the new certificate and no chain", aws.ToString(got2.Certificate), got2.CertificateChain)
	}
	tags := awstest.Call(t, c.ListTagsForCertificate, &acm.ListTagsForCertificateInput{CertificateArn: out.CertificateArn})
	if len(tags.Tags) != 1 {
		t.Errorf("tags after re-import: got %+v, want them kept", tags.Tags)
	}

	_, otherKey := selfSigned(t, "other.example.com", testNow.Add(-time.Hour), testNow.Add(time.Hour))
	expired, expiredKey := selfSigned(t, "old.example.com", testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour))
	twoCerts := append(append([]byte{}, cert...), cert2...)
	imp := func(in acm.ImportCertificateInput) func(context.Context) error {
		return awstest.Fails(c.ImportCertificate, &in)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "key of another certificate", Call: imp(acm.ImportCertificateInput{Certificate: cert, PrivateKey: otherKey}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "The private key does not match the public key in the certificate."}},
		{Name: "not PEM", Call: imp(acm.ImportCertificateInput{Certificate: []byte("hello"), PrivateKey: key}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "Unable to parse certificate. Please ensure the certificate is in PEM format."}},
		{Name: "two certificates", Call: imp(acm.ImportCertificateInput{Certificate: twoCerts, PrivateKey: key}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "The certificate field contains more than one certificate. You can specify only one certificate in this field."}},
		{Name: "key not PEM", Call: imp(acm.ImportCertificateInput{Certificate: cert, PrivateKey: []byte("nope")}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "The private key is not supported."}},
		{Name: "expired", Call: imp(acm.ImportCertificateInput{Certificate: expired, PrivateKey: expiredKey}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "The certificate has expired"}},
		{Name: "chain that did not sign it", Call: imp(acm.ImportCertificateInput{Certificate: cert, PrivateKey: key, CertificateChain: cert2}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "The index within the chain of the invalid certificate is: 0"}},
		{Name: "re-import to an unknown ARN", Call: imp(acm.ImportCertificateInput{Certificate: cert, PrivateKey: key,
			CertificateArn: aws.String("arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Could not find certificate arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000."}},
	})
}

func TestListFiltersAndPages(t *testing.T) {
	_, c, clk := startClock(t)
	rsa1 := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("a.example.com")})
	clk.Advance(time.Second) // creation orders the list
	rsa2 := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("b.example.com"),
		Options: &types.CertificateOptions{Export: types.CertificateExportEnabled}})
	clk.Advance(time.Second)
	ec := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("c.example.com"), KeyAlgorithm: types.KeyAlgorithmEcSecp384r1})
	clk.Advance(time.Second)
	cert, key := selfSigned(t, "d.example.com", testNow.Add(-time.Hour), testNow.Add(time.Hour))
	imported := awstest.Call(t, c.ImportCertificate, &acm.ImportCertificateInput{Certificate: cert, PrivateKey: key})

	arns := func(in acm.ListCertificatesInput) []string {
		out := []string{}
		for p := acm.NewListCertificatesPaginator(c, &in, func(o *acm.ListCertificatesPaginatorOptions) { o.Limit = 1 }); p.HasMorePages(); {
			for _, s := range awstest.NextPage(t, p).CertificateSummaryList {
				out = append(out, aws.ToString(s.CertificateArn))
			}
		}
		return out
	}
	all := types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmRsa2048, types.KeyAlgorithmEcSecp384r1, types.KeyAlgorithmEcPrime256v1}}
	tests := []struct {
		name string
		in   acm.ListCertificatesInput
		want []*string
	}{
		{"default: RSA only", acm.ListCertificatesInput{}, []*string{rsa1.CertificateArn, rsa2.CertificateArn}},
		{"every key type", acm.ListCertificatesInput{Includes: &all},
			[]*string{rsa1.CertificateArn, rsa2.CertificateArn, ec.CertificateArn, imported.CertificateArn}},
		{"newest first", acm.ListCertificatesInput{Includes: &all, SortBy: types.SortByCreatedAt, SortOrder: types.SortOrderDescending},
			[]*string{imported.CertificateArn, ec.CertificateArn, rsa2.CertificateArn, rsa1.CertificateArn}},
		{"EC only", acm.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcSecp384r1}}},
			[]*string{ec.CertificateArn}},
		{"export enabled", acm.ListCertificatesInput{Includes: &types.Filters{ExportOption: types.CertificateExportEnabled}},
			[]*string{rsa2.CertificateArn}},
		{"status ISSUED", acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusIssued}},
			[]*string{rsa1.CertificateArn, rsa2.CertificateArn}},
		{"status PENDING_VALIDATION", acm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusPendingValidation}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(aws.ToStringSlice(tt.want), arns(tt.in)); diff != "" {
				t.Errorf("ListCertificates (-want +got):\n%s", diff)
			}
		})
	}
	page := awstest.Call(t, c.ListCertificates, &acm.ListCertificatesInput{Includes: &all, MaxItems: aws.Int32(10)})
	var s *types.CertificateSummary
	for i := range page.CertificateSummaryList {
		if aws.ToString(page.CertificateSummaryList[i].CertificateArn) == aws.ToString(imported.CertificateArn) {
			s = &page.CertificateSummaryList[i]
		}
	}
	if s == nil || s.Type != types.CertificateTypeImported || aws.ToString(s.DomainName) != "d.example.com" || s.KeyAlgorithm != "EC-prime256v1" ||
		aws.ToBool(s.InUse) || s.Status != types.CertificateStatusIssued || s.NotAfter == nil {
		t.Errorf("summary of the import: got %+v", s)
	}
	awstest.WantAPIError(t, awstest.Fails(c.ListCertificates, &acm.ListCertificatesInput{NextToken: aws.String("bogus")})(context.Background()),
		awstest.APIError{Code: "InvalidArgsException", Status: 400})
}

func TestErrors(t *testing.T) {
	_, c := start(t)
	issued := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("e.example.com")})
	const missing = "arn:aws:acm:us-east-1:000000000000:certificate/11111111-1111-1111-1111-111111111111"
	req := func(in acm.RequestCertificateInput) func(context.Context) error {
		return awstest.Fails(c.RequestCertificate, &in)
	}
	awstest.RunErrorCases(t, []awstest.ErrorCase{
		{Name: "describe: unknown", Call: awstest.Fails(c.DescribeCertificate, &acm.DescribeCertificateInput{CertificateArn: aws.String(missing)}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Could not find certificate " + missing + " in account 000000000000."}},
		{Name: "get: unknown", Call: awstest.Fails(c.GetCertificate, &acm.GetCertificateInput{CertificateArn: aws.String(missing)}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Could not find certificate"}},
		{Name: "delete: unknown", Call: awstest.Fails(c.DeleteCertificate, &acm.DeleteCertificateInput{CertificateArn: aws.String(missing)}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Status: 400, Message: "Could not find certificate"}},
		{Name: "describe: another region's ARN", Call: awstest.Fails(c.DescribeCertificate, &acm.DescribeCertificateInput{
			CertificateArn: aws.String("arn:aws:acm:eu-west-1:000000000000:certificate/11111111-1111-1111-1111-111111111111")}),
			Want: awstest.APIError{Code: "ResourceNotFoundException", Status: 400}},
		{Name: "request: not a domain", Call: req(acm.RequestCertificateInput{DomainName: aws.String("localhost")}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "Value 'localhost' at 'domainName' failed to satisfy constraint: Member must satisfy regular expression pattern"}},
		{Name: "request: bad SAN", Call: req(acm.RequestCertificateInput{DomainName: aws.String("ok.example.com"), SubjectAlternativeNames: []string{"-bad.example.com"}}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "at 'subjectAlternativeNames' failed to satisfy constraint"}},
		{Name: "request: RSA 4096", Call: req(acm.RequestCertificateInput{DomainName: aws.String("ok.example.com"), KeyAlgorithm: types.KeyAlgorithmRsa4096}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400}},
		{Name: "request: validation domain of another name", Call: req(acm.RequestCertificateInput{DomainName: aws.String("ok.example.com"),
			DomainValidationOptions: []types.DomainValidationOption{{DomainName: aws.String("ok.example.com"), ValidationDomain: aws.String("example.org")}}}),
			Want: awstest.APIError{Code: "InvalidDomainValidationOptionsException", Status: 400}},
		{Name: "export: a public certificate without export", Call: awstest.Fails(c.ExportCertificate, &acm.ExportCertificateInput{
			CertificateArn: issued.CertificateArn, Passphrase: []byte("secret")}),
			Want: awstest.APIError{Code: "ValidationException", Status: 400, Message: "Certificate ARN: " + aws.ToString(issued.CertificateArn) + " is not a private certificate"}},
		{Name: "tags: reserved prefix", Call: awstest.Fails(c.AddTagsToCertificate, &acm.AddTagsToCertificateInput{CertificateArn: issued.CertificateArn,
			Tags: []types.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}}),
			Want: awstest.APIError{Code: "InvalidTagException", Status: 400}},
	})
}

func TestTagsAndExport(t *testing.T) {
	_, c := start(t)
	out := awstest.Call(t, c.RequestCertificate, &acm.RequestCertificateInput{DomainName: aws.String("x.example.com"),
		Options: &types.CertificateOptions{Export: types.CertificateExportEnabled}})
	awstest.Call(t, c.AddTagsToCertificate, &acm.AddTagsToCertificateInput{CertificateArn: out.CertificateArn,
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("c")}}})
	awstest.Call(t, c.RemoveTagsFromCertificate, &acm.RemoveTagsFromCertificateInput{CertificateArn: out.CertificateArn,
		Tags: []types.Tag{{Key: aws.String("a")}, {Key: aws.String("b"), Value: aws.String("not 2")}}})
	tags := awstest.Call(t, c.ListTagsForCertificate, &acm.ListTagsForCertificateInput{CertificateArn: out.CertificateArn})
	var got []string
	for _, tg := range tags.Tags {
		got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if diff := cmp.Diff([]string{"b=2", "c="}, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}

	awstest.Call(t, c.UpdateCertificateOptions, &acm.UpdateCertificateOptionsInput{CertificateArn: out.CertificateArn,
		Options: &types.CertificateOptions{CertificateTransparencyLoggingPreference: types.CertificateTransparencyLoggingPreferenceDisabled}})
	d := awstest.Call(t, c.DescribeCertificate, &acm.DescribeCertificateInput{CertificateArn: out.CertificateArn}).Certificate
	if d.Options.CertificateTransparencyLoggingPreference != types.CertificateTransparencyLoggingPreferenceDisabled || d.Options.Export != types.CertificateExportEnabled {
		t.Errorf("options after UpdateCertificateOptions: got %+v, want CT logging DISABLED, export ENABLED", d.Options)
	}
	exp := awstest.Call(t, c.ExportCertificate, &acm.ExportCertificateInput{CertificateArn: out.CertificateArn, Passphrase: []byte("passphrase")})
	block, _ := pem.Decode([]byte(aws.ToString(exp.PrivateKey)))
	if block == nil || block.Type != "ENCRYPTED PRIVATE KEY" || aws.ToString(exp.Certificate) == "" || aws.ToString(exp.CertificateChain) == "" {
		t.Errorf("ExportCertificate: got key block %v, certificate %d bytes, chain %d bytes", block, len(aws.ToString(exp.Certificate)), len(aws.ToString(exp.CertificateChain)))
	}
	page := awstest.Call(t, c.ListCertificates, &acm.ListCertificatesInput{})
	if len(page.CertificateSummaryList) != 1 || !aws.ToBool(page.CertificateSummaryList[0].Exported) {
		t.Errorf("Exported after ExportCertificate: got %+v", page.CertificateSummaryList)
	}
}

func TestAccountConfiguration(t *testing.T) {
	_, c := start(t)
	got := awstest.Call(t, c.GetAccountConfiguration, &acm.GetAccountConfigurationInput{})
	if aws.ToInt32(got.ExpiryEvents.DaysBeforeExpiry) != 45 {
		t.Errorf("default DaysBeforeExpiry: got %d, want 45", aws.ToInt32(got.ExpiryEvents.DaysBeforeExpiry))
	}
	awstest.Call(t, c.PutAccountConfiguration, &acm.PutAccountConfigurationInput{IdempotencyToken: aws.String("t1"),
		ExpiryEvents: &types.ExpiryEventsConfiguration{DaysBeforeExpiry: aws.Int32(30)}})
	got = awstest.Call(t, c.GetAccountConfiguration, &acm.GetAccountConfigurationInput{})
	if aws.ToInt32(got.ExpiryEvents.DaysBeforeExpiry) != 30 {
		t.Errorf("DaysBeforeExpiry after PutAccountConfiguration: got %d, want 30", aws.ToInt32(got.ExpiryEvents.DaysBeforeExpiry))
	}
}
