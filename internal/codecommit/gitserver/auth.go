package gitserver

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"time"

	"overcast"
	"overcast/internal/sigv4"
)

// maxSkew is how far a credential helper's signing time may be from now,
// SigV4's allowance.
const maxSkew = 15 * time.Minute

// regions are where a signature is looked for when the host does not
// name its region: a credential helper run with --ignore-host-check signs
// for the region the CLI is configured with, which the password does not
// say.
var regions = []string{
	overcast.DefaultRegion, "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "ca-west-1", "sa-east-1", "mx-central-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
	"ap-southeast-7", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-east-1", "ap-east-2",
	"me-south-1", "me-central-1", "il-central-1", "af-south-1", "cn-north-1", "cn-northwest-1",
	"us-gov-west-1", "us-gov-east-1",
}

// hostRegion is the credential helper's reading of a CodeCommit host name
// (git-codecommit.<region>.amazonaws.com and its FIPS and VPC endpoint
// forms): the region the helper signed for.
var hostRegion = regexp.MustCompile(`^(vpce-.+\.)?git-codecommit(-fips)?\.([^.]+)\.(vpce\.)?amazonaws\.com`)

// regionOfHost is the region host names, "" when it names none.
func regionOfHost(host string) string {
	if m := hostRegion.FindStringSubmatch(host); m != nil {
		return m[3]
	}
	return ""
}

// hostName is a Host header without its port: the helper signs the name only.
func hostName(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// errDenied is a credential that is present and wrong: git reports 403.
var errDenied = errors.New("gitserver: access denied")

// authenticateBasic finds who userName and password, a git client's HTTP
// Basic credentials for the repository path on host, stand for: a
// credential helper's signature (username AKID or AKID%SessionToken) or an
// IAM Git credential. The caller's region is the one the signature was made
// for, or the host's.
func (s *Server) authenticateBasic(ctx context.Context, userName, password, host, path string) (overcast.Caller, error) {
	host = hostName(host)
	signedAt, ok := sigv4.ParseGitPassword(password)
	if !ok {
		return s.authenticateGitCredential(ctx, userName, password, host)
	}
	if d := s.now().Sub(signedAt); d > maxSkew || d < -maxSkew {
		return overcast.Caller{}, errDenied
	}
	keyID, token, _ := strings.Cut(userName, "%")
	creds, err := s.opts.Keys.LookupAccessKey(ctx, keyID)
	switch {
	case errors.Is(err, overcast.ErrUnknownAccessKey) && !s.strict:
		// Outside --strict an unknown key stands for the root of the
		// account it names (or the default one), as on the gateway.
		account, ok := overcast.AccountFromAccessKey(keyID)
		if !ok {
			account = overcast.DefaultAccountID
		}
		return overcast.RootCaller(account, orDefault(regionOfHost(host))), nil
	case errors.Is(err, overcast.ErrUnknownAccessKey):
		return overcast.Caller{}, errDenied
	case err != nil:
		return overcast.Caller{}, err
	}
	if creds.Inactive || creds.SessionToken != token || (!creds.Expires.IsZero() && !s.now().Before(creds.Expires)) {
		return overcast.Caller{}, errDenied
	}
	for _, region := range candidateRegions(host) {
		for _, p := range []string{path, path + "/"} {
			if sigv4.VerifyGitPassword(password, creds.SecretAccessKey, region, host, p) {
				caller := creds.Caller
				caller.Region, caller.AccessKeyID = region, keyID
				if caller.AccountID == "" {
					caller.AccountID = overcast.DefaultAccountID
				}
				return caller, nil
			}
		}
	}
	return overcast.Caller{}, errDenied
}

// candidateRegions are the regions a signature for host may be made for:
// the host's own when it names one, else every region, the default first.
func candidateRegions(host string) []string {
	if r := regionOfHost(host); r != "" {
		return []string{r}
	}
	return regions
}

func (s *Server) authenticateGitCredential(ctx context.Context, userName, password, host string) (overcast.Caller, error) {
	if s.opts.Credentials == nil {
		return overcast.Caller{}, errDenied
	}
	caller, err := s.opts.Credentials.AuthenticateGitCredential(ctx, userName, password)
	if errors.Is(err, ErrBadCredential) {
		return overcast.Caller{}, errDenied
	}
	if err != nil {
		return overcast.Caller{}, err
	}
	caller.Region = orDefault(regionOfHost(host))
	return caller, nil
}

func orDefault(region string) string {
	if region == "" {
		return overcast.DefaultRegion
	}
	return region
}
