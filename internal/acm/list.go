package acm

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"overcast"
	api "overcast/internal/api/acm"
	"overcast/internal/awsproto"
	"overcast/internal/store"
)

// defaultKeyTypes are the key algorithms ListCertificates shows when the
// request names none: ACM leaves out ECDSA and larger RSA keys unless
// Includes.keyTypes asks for them.
var defaultKeyTypes = []string{api.KeyAlgorithmRSA1024, api.KeyAlgorithmRSA2048}

// listFilter is a ListCertificates request's selection.
type listFilter struct {
	statuses, keyTypes, keyUsages, extKeyUsages []string
	exportOption, managedBy                     string
}

func newListFilter(in *api.ListCertificatesRequest) listFilter {
	f := listFilter{statuses: in.CertificateStatuses, keyTypes: defaultKeyTypes}
	if inc := in.Includes; inc != nil {
		if len(inc.KeyTypes) > 0 {
			f.keyTypes = inc.KeyTypes
		}
		f.keyUsages, f.extKeyUsages = inc.KeyUsage, inc.ExtendedKeyUsage
		f.exportOption, f.managedBy = cmpOr(inc.ExportOption, ""), cmpOr(inc.ManagedBy, "")
	}
	return f
}

func (f listFilter) match(sum *api.CertificateSummary) bool {
	anyOf := func(want, have []string) bool {
		return len(want) == 0 || slices.ContainsFunc(want, func(w string) bool { return slices.Contains(have, w) })
	}
	export := api.CertificateExportDISABLED
	if sum.ExportOption != nil {
		export = *sum.ExportOption
	}
	return anyOf(f.statuses, []string{*sum.Status}) && anyOf(f.keyTypes, []string{strings.Replace(*sum.KeyAlgorithm, "-", "_", 1)}) &&
		anyOf(f.keyUsages, sum.KeyUsages) && anyOf(f.extKeyUsages, sum.ExtendedKeyUsages) &&
		(f.exportOption == "" || f.exportOption == export) &&
		(f.managedBy == "" || (sum.ManagedBy != nil && *sum.ManagedBy == f.managedBy))
}

// listKey orders certificates by creation, then ID: the key a page
// token carries.
func listKey(c *certificate) string {
	return c.Created.UTC().Format("20060102T150405.000000000Z") + "|" + c.ID
}

// ListCertificates lists the caller's certificates that pass the request's
// filters, oldest first unless SortOrder says otherwise.
func (s *Service) ListCertificates(ctx context.Context, in *api.ListCertificatesRequest) (*api.ListCertificatesResponse, error) {
	sc := overcast.ScopeOf(ctx)
	after, err := awsproto.PageAfter(in.NextToken, api.NewInvalidArgsException("The NextToken is not valid."))
	if err != nil {
		return nil, err
	}
	desc := in.SortOrder != nil && *in.SortOrder == api.SortOrderDESCENDING
	f := newListFilter(in)
	type entry struct {
		key string
		sum api.CertificateSummary
	}
	var all []entry
	err = s.Store.View(ctx, func(tx store.Tx) error {
		all = all[:0]
		return store.ScanJSON(tx, certificatesTable, store.ScanOptions{Prefix: sc.Prefix()}, func(_ string, c certificate, _ int64) error {
			if sum := s.summary(&c); f.match(&sum) {
				all = append(all, entry{listKey(&c), sum})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	order := func(a, b string) int {
		if desc {
			return cmp.Compare(b, a)
		}
		return cmp.Compare(a, b)
	}
	slices.SortFunc(all, func(a, b entry) int { return order(a.key, b.key) })
	if after != "" {
		i := slices.IndexFunc(all, func(e entry) bool { return order(e.key, after) > 0 })
		if i < 0 {
			i = len(all)
		}
		all = all[i:]
	}
	out := &api.ListCertificatesResponse{CertificateSummaryList: api.CertificateSummaryList{}}
	limit := awsproto.PageSize(in.MaxItems, 1000)
	for i, e := range all {
		if i == limit {
			out.NextToken = awsproto.PageToken(all[i-1].key)
			break
		}
		out.CertificateSummaryList = append(out.CertificateSummaryList, e.sum)
	}
	return out, nil
}
