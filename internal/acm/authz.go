package acm

import (
	"context"

	"overcast/internal/authz"
)

// authzTable is how IAM authorizes ACM's operations (the Service
// Authorization Reference's "AWS Certificate Manager"): on the
// certificate a call names by ARN. Requesting or importing a new one is
// authorized on "certificate/*": its ID is made by the call.
var authzTable = &authz.Table{Prefix: "acm", Rules: map[string]authz.Rule{
	"RequestCertificate":       {Resources: newCertificate},
	"DescribeCertificate":      onCertificate,
	"GetCertificate":           onCertificate,
	"ExportCertificate":        onCertificate,
	"DeleteCertificate":        onCertificate,
	"UpdateCertificateOptions": onCertificate,
	"ImportCertificate": {Resources: func(ctx context.Context, s authz.Scope, in any) []string {
		if arns := onCertificate.Resources(ctx, s, in); len(arns) > 0 {
			return arns // a re-import names the certificate it replaces
		}
		return newCertificate(ctx, s, in)
	}},
	"AddTagsToCertificate":      onCertificate,
	"RemoveTagsFromCertificate": onCertificate,
	"ListTagsForCertificate":    onCertificate,
}}

var (
	onCertificate  = authz.Rule{Resources: authz.Ref("CertificateArn", nil)}
	newCertificate = authz.Made(func(s authz.Scope) string { return s.ARN("acm", "certificate/*") })
)
