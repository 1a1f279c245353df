package acm

import (
	"context"
	"crypto/x509"
	"errors"
	"regexp"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/service"
	"overcast/internal/store"
)

// domainPattern is the model's DomainNameString pattern, which the codec
// cannot check (RE2 has no lookahead): the same language without it.
var domainPattern = regexp.MustCompile(`^(\*\.)?(([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])$`)

// modelDomainPattern is how the pattern reads in ACM's messages.
const modelDomainPattern = `^(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$`

// maxNames is ACM's default quota of names in one certificate.
const maxNames = 10

// requestedNames are the names a request asks for, DomainName first and
// without repeats, each checked against the model's pattern.
func requestedNames(in *api.RequestCertificateRequest) ([]string, error) {
	domain := *in.DomainName
	if !domainPattern.MatchString(domain) {
		return nil, api.NewValidationException("1 validation error detected: Value '%s' at 'domainName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
			domain, modelDomainPattern)
	}
	names := []string{domain}
	for _, n := range in.SubjectAlternativeNames {
		if !domainPattern.MatchString(n) {
			return nil, api.NewValidationException("1 validation error detected: Value '[%s]' at 'subjectAlternativeNames' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 253, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: %s]",
				strings.Join(in.SubjectAlternativeNames, ", "), modelDomainPattern)
		}
		if !slices.ContainsFunc(names, func(m string) bool { return strings.EqualFold(m, n) }) {
			names = append(names, n)
		}
	}
	if len(names) > maxNames {
		return nil, api.NewLimitExceededException("Cannot issue certificate with more than %d domain names.", maxNames)
	}
	if len(domain) > 64 {
		// The first name is the subject's common name, which X.509 limits.
		return nil, api.NewInvalidParameterException("DomainName %s is longer than 64 characters.", domain)
	}
	return names, nil
}

// validationDomains maps each name to the domain its validation used:
// itself, or what DomainValidationOptions asks (the name or a parent).
func validationDomains(names []string, opts api.DomainValidationOptionList) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		out[n] = n
	}
	for _, o := range opts {
		name, vd := *o.DomainName, *o.ValidationDomain
		if _, ok := out[name]; !ok {
			return nil, api.NewInvalidDomainValidationOptionsException("DomainValidationOption DomainName %s is not one of the certificate's domain names.", name)
		}
		base := strings.TrimPrefix(name, "*.")
		if vd != base && !strings.HasSuffix(base, "."+vd) {
			return nil, api.NewInvalidDomainValidationOptionsException("ValidationDomain %s is not a superdomain of DomainName %s.", vd, name)
		}
		out[name] = vd
	}
	return out, nil
}

var requestableKeys = []string{keyRSA2048, keyECP256, keyECP384}

// RequestCertificate issues a certificate at once from the local CA: the
// validation ACM would wait for counts as done, so the certificate is
// ISSUED when the call returns.
func (s *Service) RequestCertificate(ctx context.Context, in *api.RequestCertificateRequest) (*api.RequestCertificateResponse, error) {
	sc := overcast.ScopeOf(ctx)
	names, err := requestedNames(in)
	if err != nil {
		return nil, err
	}
	method := service.DerefOr(in.ValidationMethod, api.ValidationMethodDNS)
	if method == api.ValidationMethodHTTP && (in.ManagedBy == nil || *in.ManagedBy != api.CertificateManagedByCLOUDFRONT) {
		return nil, api.NewInvalidParameterException("HTTP validation is only supported for certificates managed by CloudFront.")
	}
	alg := service.DerefOr(in.KeyAlgorithm, keyRSA2048)
	if !slices.Contains(requestableKeys, alg) {
		return nil, api.NewValidationException("Key algorithm %s is not supported for certificate requests. Supported algorithms: %s.", alg, strings.Join(requestableKeys, ", "))
	}
	vds, err := validationDomains(names, in.DomainValidationOptions)
	if err != nil {
		return nil, err
	}
	tags, err := addTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	token := ""
	if in.IdempotencyToken != nil {
		token = *in.IdempotencyToken
		arn, found, err := s.byToken(ctx, sc, token)
		if err != nil {
			return nil, err
		}
		if found {
			return &api.RequestCertificateResponse{CertificateArn: new(arn)}, nil
		}
	}

	now := s.Now()
	id := s.IDs.UUID()
	c := certificate{
		ARN: overcast.NewARN("acm", sc.Region, sc.Account, "certificate/"+id).String(), ID: id,
		Type: api.CertificateTypeAMAZONISSUED, Status: api.CertificateStatusISSUED,
		DomainName: names[0], Names: names, ValidationMethod: method, KeyAlgorithm: alg,
		CTLogging: api.CertificateTransparencyLoggingPreferenceENABLED, Export: api.CertificateExportDISABLED,
		IdempotencyToken: token, Created: now, Tags: tags,
	}
	if in.Options != nil {
		c.CTLogging = cmpOr(in.Options.CertificateTransparencyLoggingPreference, c.CTLogging)
		c.Export = cmpOr(in.Options.Export, c.Export)
	}
	c.ManagedBy = service.Deref(in.ManagedBy)
	c.Validations = s.validations(names, vds)
	if in.CertificateAuthorityArn != nil {
		// No AWS Private CA runs here: ACM accepts the request and then
		// fails it, as it does for a CA it cannot find.
		c.Type, c.Status, c.FailureReason = api.CertificateTypePRIVATE, api.CertificateStatusFAILED, api.FailureReasonPCARESOURCENOTFOUND
		c.AuthorityARN, c.Validations, c.ValidationMethod = *in.CertificateAuthorityArn, nil, ""
	} else if err := s.issueTo(ctx, &c); err != nil {
		return nil, err
	}

	arn := c.ARN
	err = store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		arn = c.ARN
		if token != "" {
			// A retry that raced this one and won keeps its certificate.
			if found, ok, err := s.findToken(tx, sc, token); err != nil || ok {
				arn = found
				return err
			}
		}
		_, err := store.PutJSON(tx, certificatesTable, sc.Key(c.ID), c, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &api.RequestCertificateResponse{CertificateArn: new(arn)}, nil
}

// issueTo has the local CA sign c's names with a new key, sealed at rest.
func (s *Service) issueTo(ctx context.Context, c *certificate) error {
	certPEM, key, err := s.ca.issue(ctx, c.Names, c.KeyAlgorithm, c.Created)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	caPEM, err := s.ca.PEM(ctx)
	if err != nil {
		return err
	}
	c.CertPEM, c.ChainPEM, c.SealedKey, c.Issued = certPEM, string(caPEM), s.sealer.Seal(keyDER, sealContext(c.ARN)), new(c.Created)
	return nil
}

func cmpOr(p *string, def string) string {
	if p != nil && *p != "" {
		return *p
	}
	return def
}

// validations makes the records a user would have added to validate each
// name. A wildcard and its base domain validate with one record, as on
// ACM.
func (s *Service) validations(names []string, vds map[string]string) []domainValidation {
	records := map[string][2]string{}
	var out []domainValidation
	for _, n := range names {
		vd := vds[n]
		base := strings.ToLower(strings.TrimPrefix(vd, "*."))
		r, ok := records[base]
		if !ok {
			r = [2]string{"_" + s.IDs.Hex(32) + "." + base + ".",
				"_" + s.IDs.Hex(32) + "." + s.IDs.String("abcdefghijklmnopqrstuvwxyz", 10) + ".acm-validations.aws."}
			records[base] = r
		}
		out = append(out, domainValidation{Domain: n, ValidationDomain: vd, RecordName: r[0], RecordValue: r[1]})
	}
	return out
}

// byToken finds the certificate a request with the same IdempotencyToken
// made within the last hour.
func (s *Service) byToken(ctx context.Context, sc scope, token string) (arn string, found bool, err error) {
	err = s.Store.View(ctx, func(tx store.Tx) error {
		arn, found, err = s.findToken(tx, sc, token)
		return err
	})
	return arn, found, err
}

func (s *Service) findToken(tx store.Tx, sc scope, token string) (string, bool, error) {
	var arn string
	since := s.Now().Add(-idempotencyWindow)
	err := store.ScanJSON(tx, certificatesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, c certificate, _ int64) error {
		if c.IdempotencyToken == token && c.Created.After(since) {
			arn = c.ARN
			return store.ErrStop
		}
		return nil
	})
	return arn, arn != "", err
}

// DeleteCertificate deletes a certificate no resource uses.
func (s *Service) DeleteCertificate(ctx context.Context, in *api.DeleteCertificateRequest) error {
	sc := overcast.ScopeOf(ctx)
	return store.UpdateRetry(ctx, s.Store, updateAttempts, func(tx store.Tx) error {
		c, ver, err := s.lookup(tx, sc, *in.CertificateArn)
		if err != nil {
			return err
		}
		if len(c.InUseBy) > 0 {
			return api.NewResourceInUseException("Certificate %s in account %s is in use.", c.ARN, sc.Account)
		}
		return tx.Delete(certificatesTable, sc.Key(c.ID), ver)
	})
}

// GetCertificate returns an issued certificate and its chain.
func (s *Service) GetCertificate(ctx context.Context, in *api.GetCertificateRequest) (*api.GetCertificateResponse, error) {
	sc := overcast.ScopeOf(ctx)
	c, err := s.view(ctx, sc, *in.CertificateArn)
	if err != nil {
		return nil, err
	}
	if c.CertPEM == "" {
		return nil, notIssued(c)
	}
	out := &api.GetCertificateResponse{Certificate: new(c.CertPEM)}
	if c.ChainPEM != "" {
		out.CertificateChain = new(c.ChainPEM)
	}
	return out, nil
}

func notIssued(c certificate) error {
	return api.NewRequestInProgressException("Certificate %s is not yet issued. Status: %s.", c.ARN, c.Status)
}

// errNoKey is a certificate record without a private key: never written
// by this package.
var errNoKey = errors.New("acm: certificate has no private key")
