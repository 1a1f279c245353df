package signed

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	iampolicy "overcast/internal/policy"
)

// policy is a verified policy statement, what a request is checked
// against each time.
type policy struct {
	// resource is the Resource pattern, with * and ? wildcards; a canned
	// policy's is the exact URL signed, so exact is set.
	resource    string
	anyResource bool // a custom policy of a signed URL may leave Resource out
	exact       bool
	notAfter    time.Time // DateLessThan
	notBefore   time.Time // DateGreaterThan; zero when absent
	source      netip.Prefix
	hasSource   bool
}

// policyJSON is the policy document CloudFront reads. EpochTime stays a
// json.Number so that a fraction is refused, not rounded.
type policyJSON struct {
	Statement []struct {
		Resource  *string
		Condition struct {
			DateLessThan    *epochJSON
			DateGreaterThan *epochJSON
			IpAddress       *struct {
				SourceIP string `json:"AWS:SourceIp"`
			}
		}
	}
}

type epochJSON struct {
	EpochTime json.Number `json:"AWS:EpochTime"`
}

func (e *epochJSON) time() (time.Time, bool) {
	if e == nil {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(string(e.EpochTime), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// parsePolicy reads a custom policy. CloudFront takes exactly one
// statement, with a DateLessThan; cookie says the policy came in a
// cookie, where Resource is required.
func parsePolicy(doc []byte, cookie bool) (*policy, bool) {
	var pj policyJSON
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&pj); err != nil || len(pj.Statement) != 1 {
		return nil, false
	}
	st := pj.Statement[0]
	p := &policy{}
	var ok bool
	if p.notAfter, ok = st.Condition.DateLessThan.time(); !ok {
		return nil, false
	}
	if st.Condition.DateGreaterThan != nil {
		if p.notBefore, ok = st.Condition.DateGreaterThan.time(); !ok {
			return nil, false
		}
	}
	if ip := st.Condition.IpAddress; ip != nil {
		if p.source, ok = parseSource(ip.SourceIP); !ok {
			return nil, false
		}
		p.hasSource = true
	}
	switch {
	case st.Resource != nil:
		p.resource = *st.Resource
	case cookie:
		return nil, false
	default:
		p.anyResource = true
	}
	return p, true
}

// parseSource reads AWS:SourceIp: a CIDR block, or one address.
func parseSource(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err == nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

// cannedPolicy is the policy CloudFront builds for a canned signed URL or
// cookie, the bytes whose signature Signature must be: no white space,
// the resource JSON-escaped as encoding/json does without HTML escaping.
func cannedPolicy(resource string, expires int64) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"Statement":[{"Resource":`)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(resource)        // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
	buf.WriteString(`,"Condition":{"DateLessThan":{"AWS:EpochTime":`)
	buf.WriteString(strconv.FormatInt(expires, 10))
	buf.WriteString(`}}}]}`)
	return buf.Bytes()
}

// allows reports whether the policy lets the viewer at viewerIP fetch
// resourceURL at now.
func (p *policy) allows(now time.Time, resourceURL string, viewer netip.Addr) bool {
	if !now.Before(p.notAfter) || now.Before(p.notBefore) {
		return false
	}
	if p.hasSource && !(viewer.IsValid() && p.source.Contains(viewer.Unmap())) {
		return false
	}
	switch {
	case p.anyResource:
		return true
	case p.exact:
		return p.resource == resourceURL
	}
	return iampolicy.Match(p.resource, resourceURL) // the same * and ? as IAM's resources
}
