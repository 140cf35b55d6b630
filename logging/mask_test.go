package logging

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every line a process writes has ID numbers, phones and card numbers
// masked, wherever they sit: the message, a string, an error, a group, a
// logger's own attributes; ids that merely contain digits are left alone.
func TestLinesAreMasked(t *testing.T) {
	for _, format := range []string{JSON, Text} {
		var buf bytes.Buffer
		log, err := New(&buf, format)
		require.NoError(t, err)
		log = log.With("card", "6222020200112233445")
		log.Info("opened for 11010519850101001X", "phone", "13812345678",
			"error", fmt.Errorf("bank: %w", errors.New("card 6222020200112233 refused")),
			slog.Group("person", "id_number", "110105198501010011"),
			"trace_id", "4bf92f3577b34da6a3ce929d0e0e4736", "amount", "1000.00", "loan_id", int64(123456789012))
		line := buf.String()
		for _, full := range []string{"11010519850101001X", "13812345678", "6222020200112233445", "6222020200112233", "110105198501010011"} {
			assert.NotContains(t, line, full, format)
		}
		for _, kept := range []string{"1101**********001X", "138****5678", "***************3445", "4bf92f3577b34da6a3ce929d0e0e4736", "1000.00", "123456789012"} {
			assert.Contains(t, line, kept, format)
		}
	}
}

func TestMaskingWrapsAnyHandler(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Masking(slog.NewTextHandler(&buf, nil))).With("phone", "13812345678").WithGroup("g")
	log.Info("id 110105198501010011", "card", "6222020200112233445")
	assert.NotContains(t, buf.String(), "13812345678")
	assert.NotContains(t, buf.String(), "110105198501010011")
	assert.NotContains(t, buf.String(), "6222020200112233445")
	assert.Contains(t, buf.String(), "***************3445")
}
