// Command samlresponse is a SAML identity provider for the e2e tests of
// AssumeRoleWithSAML: it writes a new IdP's metadata to a file and prints,
// one a line, base64 SAML responses it signed for each -subject, each
// naming -role and -provider in its Role attribute. The ARNs are known
// before the provider exists, so one run serves a whole test.
//
//	samlresponse -metadata idp.xml -role arn:aws:iam::000000000000:role/dev \
//	  -provider arn:aws:iam::000000000000:saml-provider/corp -subject dev-alice -subject ops-bob
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"overcast/internal/saml/samltest"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	metadata := flag.String("metadata", "", "where to write the IdP's metadata")
	role := flag.String("role", "", "the role ARN the responses name")
	provider := flag.String("provider", "", "the SAML provider ARN the responses name")
	var subjects list
	flag.Var(&subjects, "subject", "a subject to sign a response for (repeatable)")
	flag.Parse()
	if err := run(*metadata, *role, *provider, subjects); err != nil {
		fmt.Fprintln(os.Stderr, "samlresponse:", err)
		os.Exit(1)
	}
}

func run(metadata, role, provider string, subjects []string) error {
	if metadata == "" || role == "" || provider == "" || len(subjects) == 0 {
		return fmt.Errorf("-metadata, -role, -provider and -subject are required")
	}
	idp, err := samltest.GenerateIdP("https://idp.example.com/metadata")
	if err != nil {
		return err
	}
	if err := os.WriteFile(metadata, []byte(idp.Metadata()), 0o644); err != nil {
		return err
	}
	for _, sub := range subjects {
		r, err := idp.Sign(samltest.Assertion{Subject: sub, SessionName: sub, Roles: []string{role + "," + provider}})
		if err != nil {
			return err
		}
		fmt.Println(r)
	}
	return nil
}
