package cloudfront

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	api "overcast/internal/api/cloudfront"
)

// The checks CloudFront makes on parts of a distribution's configuration
// that name nothing else: error responses, origin timeouts, geo
// restriction.

// errorCodes are the HTTP statuses a custom error response may be for,
// and responseCodes those it may answer with.
var (
	errorCodes    = []int32{400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504}
	responseCodes = []string{"200", "400", "403", "404", "405", "414", "416", "500", "501", "502", "503", "504"}
)

func checkErrorResponses(r *api.CustomErrorResponses) error {
	if r == nil {
		return nil
	}
	if err := quantityMatches("CustomErrorResponses", r.Quantity, len(r.Items)); err != nil {
		return err
	}
	for _, e := range r.Items {
		if !slices.Contains(errorCodes, *e.ErrorCode) {
			return api.NewInvalidErrorCode("The error code %d is not valid for a custom error response.", *e.ErrorCode)
		}
		page, code := strOr(e.ResponsePagePath, ""), strOr(e.ResponseCode, "")
		if page != "" && !strings.HasPrefix(page, "/") {
			return api.NewInvalidRelativePath("The ResponsePagePath %q must begin with a slash.", page)
		}
		if code != "" && !slices.Contains(responseCodes, code) {
			return api.NewInvalidResponseCode("The response code %q is not valid.", code)
		}
		if (page == "") != (code == "") {
			return api.NewInvalidArgument("ResponsePagePath and ResponseCode of a custom error response for %d go together.", *e.ErrorCode)
		}
	}
	return nil
}

// within reports whether v, when set, lies in [lo, hi].
func within(v *int32, lo, hi int32) bool { return v == nil || (*v >= lo && *v <= hi) }

func checkOrigin(o api.Origin) error {
	if !within(o.ConnectionAttempts, 1, 3) {
		return api.NewInvalidArgument("The parameter ConnectionAttempts must be between 1 and 3.")
	}
	if !within(o.ConnectionTimeout, 1, 10) {
		return api.NewInvalidArgument("The parameter ConnectionTimeout must be between 1 and 10.")
	}
	c := o.CustomOriginConfig
	if c == nil {
		return nil
	}
	if !within(c.OriginReadTimeout, 1, 180) {
		return api.NewInvalidOriginReadTimeout("The read timeout must be between 1 and 180 seconds.")
	}
	if !within(c.OriginKeepaliveTimeout, 1, 180) {
		return api.NewInvalidOriginKeepaliveTimeout("The keep-alive timeout must be between 1 and 180 seconds.")
	}
	return nil
}

// countryCode is an ISO 3166-1 alpha-2 code, as geo restriction lists
// them.
var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

func checkRestrictions(r *api.Restrictions) error {
	if r == nil || r.GeoRestriction == nil {
		return nil
	}
	g := r.GeoRestriction
	if err := quantityMatches("GeoRestriction", g.Quantity, len(g.Items)); err != nil {
		return err
	}
	if (strOr(g.RestrictionType, "none") == "none") != (len(g.Items) == 0) {
		return api.NewInvalidGeoRestrictionParameter("A geo restriction of type %s lists %s countries.", strOr(g.RestrictionType, "none"),
			strconv.Itoa(len(g.Items)))
	}
	for _, c := range g.Items {
		if !countryCode.MatchString(c) {
			return api.NewInvalidLocationCode("The location code %q is not a valid ISO 3166-1 alpha-2 country code.", c)
		}
	}
	return nil
}
