package api

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/lendflow/lendflow/errs"
	"github.com/lendflow/lendflow/transfer"
)

// transfer_not_allowed says why (docs/api.md "Errors"): one of the reasons
// written for the investor, and only those; any other text of the refusal
// gets the code's fixed text, as every refusal does.
func TestTransferNotAllowedSaysWhy(t *testing.T) {
	s := New(Deps{Logger: testLogger()})
	detail := func(err error) (int, string) {
		rec := httptest.NewRecorder()
		s.writeError(rec, httptest.NewRequest("POST", "/", nil), err)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &doc))
		assert.Equal(t, errs.TransferNotAllowed, doc["code"])
		return rec.Code, doc["detail"].(string)
	}
	for _, reason := range transfer.Reasons {
		status, d := detail(errs.New(errs.TransferNotAllowed, "%s", reason))
		assert.Equal(t, 409, status)
		assert.Equal(t, reason, d)
	}
	_, d := detail(errs.New(errs.TransferNotAllowed, "holding 12 of user 7: SELECT … FOR UPDATE"))
	assert.Equal(t, detailByCode[errs.TransferNotAllowed], d)
}
