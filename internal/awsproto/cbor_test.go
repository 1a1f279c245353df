package awsproto

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCBORHandler(t *testing.T) {
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	doc := func(v any) []byte {
		b, err := cborEncMode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, path string
		body       []byte
		wantStatus int
		want       map[string]any // the response document
	}{
		{"ok", "/service/Echo_20200101/operation/Echo", doc(map[string]any{"Name": "a"}), 200, map[string]any{"Name": "a"}},
		{"namespaced service", "/service/com.amazonaws.echo.Echo_20200101/operation/Echo", doc(map[string]any{"Name": "a"}), 200, map[string]any{"Name": "a"}},
		{"path prefix", "/custom/prefix/service/Echo_20200101/operation/Echo", doc(map[string]any{"Name": "a"}), 200, map[string]any{"Name": "a"}},
		{"unknown operation", "/service/Echo_20200101/operation/Nope", nil, 404,
			map[string]any{"__type": "com.amazonaws.echo#UnknownOperationException", "message": "Echo has no operation for POST /service/Echo_20200101/operation/Nope."}},
		{"other service", "/service/Other/operation/Echo", nil, 404,
			map[string]any{"__type": "com.amazonaws.echo#UnknownOperationException", "message": "Echo has no operation for POST /service/Other/operation/Echo."}},
		{"malformed", "/service/Echo_20200101/operation/Echo", []byte{0xbf, 0x64}, 400, nil},
		{"wrong type", "/service/Echo_20200101/operation/Echo", doc(map[string]any{"Name": 1}), 400, nil},
		{"missing required", "/service/Echo_20200101/operation/Echo", doc(map[string]any{}), 400,
			map[string]any{"__type": "com.amazonaws.echo#ValidationException",
				"message": "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"}},
		{"modeled error", "/service/Echo_20200101/operation/Missing", doc(map[string]any{"Name": "x"}), 404,
			map[string]any{"__type": "com.amazonaws.echo#NoSuchThing", "message": "no thing called x"}},
		{"panic", "/service/Echo_20200101/operation/Boom", doc(map[string]any{"Name": "x"}), 500,
			map[string]any{"__type": "com.amazonaws.echo#InternalFailure", "message": InternalFailure().Message}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewHandler(NewBinding(echoService(protoCBOR), struct{}{}, true), nil)
			req := httptest.NewRequest("POST", tt.path, bytes.NewReader(tt.body))
			req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
			req.Header.Set("Content-Type", "application/cbor")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Smithy-Protocol"); got != "rpc-v2-cbor" {
				t.Errorf("Smithy-Protocol = %q, want rpc-v2-cbor", got)
			}
			var got map[string]any
			if err := cborDecMode.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("response is not CBOR: %v (%x)", err, rec.Body.Bytes())
			}
			if tt.want == nil {
				if typ, _ := got["__type"].(string); !strings.HasSuffix(typ, "#SerializationException") {
					t.Errorf("__type = %q, want a SerializationException", typ)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}
