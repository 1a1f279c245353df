package ssm

import "context"

// ResolveParameter returns the decrypted value of the parameter that
// nameOrARN names, as ECS does for a task definition's secrets and
// environment: a name (optionally with a ":version" or ":label" selector)
// is looked up in account and region; an ARN names its own account and
// region. Errors are the API's (ParameterNotFound, ParameterVersionNotFound).
func (s *Service) ResolveParameter(ctx context.Context, account, region, nameOrARN string) (string, error) {
	r, ok := parseRef(scope{Account: account, Region: region}, nameOrARN)
	if !ok {
		return "", parameterNotFound(nameOrARN)
	}
	res, err := s.resolve(ctx, r)
	if err != nil {
		return "", err
	}
	return s.value(r.scope, res.name, &res.version, true)
}
