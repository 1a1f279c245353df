package acm

import (
	"context"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/service"
)

// DescribeCertificate reports a certificate with every field ACM fills.
func (s *Service) DescribeCertificate(ctx context.Context, in *api.DescribeCertificateRequest) (*api.DescribeCertificateResponse, error) {
	c, err := s.view(ctx, overcast.ScopeOf(ctx), *in.CertificateArn)
	if err != nil {
		return nil, err
	}
	return &api.DescribeCertificateResponse{Certificate: s.detail(&c)}, nil
}

func (s *Service) detail(c *certificate) *api.CertificateDetail {
	d := &api.CertificateDetail{
		CertificateArn:          new(c.ARN),
		DomainName:              new(c.DomainName),
		SubjectAlternativeNames: slices.Clone(c.Names),
		Status:                  new(c.status(s.Now())),
		Type:                    new(c.Type),
		KeyAlgorithm:            new(wireKeyAlgorithm(c.KeyAlgorithm)),
		InUseBy:                 append(api.InUseList{}, c.InUseBy...),
		RenewalEligibility:      new(c.renewalEligibility()),
		CreatedAt:               new(c.Created),
		IssuedAt:                c.Issued,
		ImportedAt:              c.Imported,
		KeyUsages:               api.KeyUsageList{},
		ExtendedKeyUsages:       api.ExtendedKeyUsageList{},
		Options:                 &api.CertificateOptions{CertificateTransparencyLoggingPreference: new(c.CTLogging)},
	}
	if c.Type != api.CertificateTypeIMPORTED {
		d.Options.Export = new(c.Export)
	}
	if c.Type == api.CertificateTypeIMPORTED {
		// ACM reports no creation time for imported certificates.
		d.CreatedAt = nil
	}
	d.FailureReason = service.OmitZero(c.FailureReason)
	d.CertificateAuthorityArn = service.OmitZero(c.AuthorityARN)
	d.ManagedBy = service.OmitZero(c.ManagedBy)
	for _, v := range c.Validations {
		d.DomainValidationOptions = append(d.DomainValidationOptions, c.validationOption(v))
	}
	x, err := c.x509()
	if err != nil {
		return d
	}
	d.Serial = new(serial(x))
	d.Subject = new(distinguishedName(x.RawSubject))
	d.Issuer = new(issuerName(x))
	d.NotBefore, d.NotAfter = new(x.NotBefore), new(x.NotAfter)
	d.SignatureAlgorithm = new(signatureAlgorithm(x))
	for _, u := range keyUsages(x) {
		d.KeyUsages = append(d.KeyUsages, api.KeyUsage{Name: new(u)})
	}
	d.ExtendedKeyUsages = extKeyUsages(x)
	return d
}

// wireKeyAlgorithm is how ACM writes a key algorithm in what it returns:
// "RSA-2048", "EC-prime256v1", although requests and filters spell them
// as the model's enum does ("RSA_2048").
func wireKeyAlgorithm(alg string) string { return strings.Replace(alg, "_", "-", 1) }

// validationOption is one DomainValidationOptions entry: validated, with
// the CNAME (DNS) or the addresses mail went to (EMAIL).
func (c *certificate) validationOption(v domainValidation) api.DomainValidation {
	o := api.DomainValidation{
		DomainName:       new(v.Domain),
		ValidationDomain: new(v.ValidationDomain),
		ValidationStatus: new(api.DomainStatusSUCCESS),
		ValidationMethod: new(c.ValidationMethod),
	}
	switch c.ValidationMethod {
	case api.ValidationMethodEMAIL:
		base := strings.TrimPrefix(v.ValidationDomain, "*.")
		for _, box := range []string{"admin", "administrator", "hostmaster", "postmaster", "webmaster"} {
			o.ValidationEmails = append(o.ValidationEmails, box+"@"+base)
		}
	default:
		o.ResourceRecord = &api.ResourceRecord{Name: new(v.RecordName), Type: new(api.RecordTypeCNAME), Value: new(v.RecordValue)}
	}
	return o
}

// renewalEligibility: ACM renews the certificates it issued while a
// service uses them; imported ones never.
func (c *certificate) renewalEligibility() string {
	if c.Type != api.CertificateTypeIMPORTED && len(c.InUseBy) > 0 {
		return api.RenewalEligibilityELIGIBLE
	}
	return api.RenewalEligibilityINELIGIBLE
}

// summary is the certificate's ListCertificates entry.
func (s *Service) summary(c *certificate) api.CertificateSummary {
	sum := api.CertificateSummary{
		CertificateArn:                       new(c.ARN),
		DomainName:                           new(c.DomainName),
		SubjectAlternativeNameSummaries:      slices.Clone(c.Names),
		HasAdditionalSubjectAlternativeNames: new(false),
		Status:                               new(c.status(s.Now())),
		Type:                                 new(c.Type),
		KeyAlgorithm:                         new(wireKeyAlgorithm(c.KeyAlgorithm)),
		KeyUsages:                            api.KeyUsageNames{},
		ExtendedKeyUsages:                    api.ExtendedKeyUsageNames{},
		InUse:                                new(len(c.InUseBy) > 0),
		Exported:                             new(c.Exported),
		RenewalEligibility:                   new(c.renewalEligibility()),
		CreatedAt:                            new(c.Created),
		IssuedAt:                             c.Issued,
		ImportedAt:                           c.Imported,
	}
	if c.Type == api.CertificateTypeIMPORTED {
		sum.CreatedAt = nil
	} else {
		sum.ExportOption = new(c.Export)
	}
	sum.ManagedBy = service.OmitZero(c.ManagedBy)
	if x, err := c.x509(); err == nil {
		sum.KeyUsages = keyUsages(x)
		sum.ExtendedKeyUsages = extKeyUsageNamesOf(x)
		sum.NotBefore, sum.NotAfter = new(x.NotBefore), new(x.NotAfter)
	}
	return sum
}
