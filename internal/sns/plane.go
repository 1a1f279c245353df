package sns

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	api "overcast/internal/api/sns"
	"overcast/internal/store"
)

// servePlane answers what SNS's messages point at: GET of SubscribeURL
// and UnsubscribeURL (no signature, as on AWS: the token or the
// subscription ARN is the credential), the signing certificate, and the
// recorded emails.
func (s *Service) servePlane(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, PlanePrefix)
	switch {
	case name == "" && r.URL.Query().Get("Action") == "ConfirmSubscription":
		q := r.URL.Query()
		arn, err := s.confirm(r.Context(), q.Get("TopicArn"), q.Get("Token"), false)
		if err != nil {
			writeXMLError(w, err)
			return
		}
		writeXML(w, confirmResponse{Xmlns: xmlns, SubscriptionArn: arn, RequestID: s.IDs.UUID()})
	case name == "" && r.URL.Query().Get("Action") == "Unsubscribe":
		err := s.Unsubscribe(r.Context(), &api.UnsubscribeInput{SubscriptionArn: ptr(r.URL.Query().Get("SubscriptionArn"))})
		if err != nil {
			writeXMLError(w, err)
			return
		}
		writeXML(w, unsubscribeResponse{Xmlns: xmlns, RequestID: s.IDs.UUID()})
	case name == "email":
		to := r.URL.Query().Get("to")
		serveList(w, r, s.Store, emailsTable, "emails", func(e email) bool { return to == "" || e.To == to })
	case name == "failed":
		serveList[delivery](w, r, s.Store, failedTable, "deliveries", nil)
	case strings.HasPrefix(name, "SimpleNotificationService-"):
		pem, ok, err := s.signer.certificate(r.Context(), name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-x509-ca-cert")
		_, _ = w.Write(pem)
	default:
		http.NotFound(w, r)
	}
}

func ptr(s string) *string { return &s }

const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

type confirmResponse struct {
	XMLName         xml.Name `xml:"ConfirmSubscriptionResponse"`
	Xmlns           string   `xml:"xmlns,attr"`
	SubscriptionArn string   `xml:"ConfirmSubscriptionResult>SubscriptionArn"`
	RequestID       string   `xml:"ResponseMetadata>RequestId"`
}

type unsubscribeResponse struct {
	XMLName   xml.Name `xml:"UnsubscribeResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"ResponseMetadata>RequestId"`
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
}

func writeXML(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "text/xml")
	b, _ := xml.Marshal(v)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}

// writeXMLError answers as the query API would: the modeled error's code
// and status.
func writeXMLError(w http.ResponseWriter, err error) {
	code, status, msg := "InternalError", http.StatusInternalServerError, "internal error"
	var ip *api.InvalidParameterException
	var nf *api.NotFoundException
	switch {
	case errors.As(err, &ip):
		code, status, msg = "InvalidParameter", http.StatusBadRequest, deref(ip.Message)
	case errors.As(err, &nf):
		code, status, msg = "NotFound", http.StatusNotFound, deref(nf.Message)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	b, _ := xml.Marshal(errorResponse{Xmlns: xmlns, Type: "Sender", Code: code, Message: msg})
	_, _ = w.Write(b)
}

// serveList answers with the records of table that keep selects, in key
// order, as {"<field>": [...]}.
func serveList[T any](w http.ResponseWriter, r *http.Request, st store.Store, table, field string, keep func(T) bool) {
	var list []T
	err := st.View(r.Context(), func(tx store.Tx) error {
		var err error
		list, err = store.FilterJSON(tx, table, store.ScanOptions{}, keep)
		return err
	})
	if list == nil {
		list = []T{}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{field: list})
}
