package acm

import "overcast/internal/authz"

// authzTable is how IAM authorizes ACM's operations (the Service
// Authorization Reference's "AWS Certificate Manager"): on the
// certificate a call names by ARN. Requesting or importing a new one
// takes no resource: its ARN is made by the call.
var authzTable = &authz.Table{Prefix: "acm", Rules: map[string]authz.Rule{
	"DescribeCertificate":       onCertificate,
	"GetCertificate":            onCertificate,
	"ExportCertificate":         onCertificate,
	"DeleteCertificate":         onCertificate,
	"UpdateCertificateOptions":  onCertificate,
	"ImportCertificate":         onCertificate, // a re-import names the certificate it replaces
	"AddTagsToCertificate":      onCertificate,
	"RemoveTagsFromCertificate": onCertificate,
	"ListTagsForCertificate":    onCertificate,
}}

var onCertificate = authz.Rule{Resources: authz.Ref("CertificateArn", nil)}
