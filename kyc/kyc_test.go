package kyc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestValidIDNumber(t *testing.T) {
	// 11010519491231002X is the standard's own worked example (check char X).
	assert.True(t, ValidIDNumber("11010519491231002X"))
	assert.True(t, ValidIDNumber("11010519491231002x"))
	assert.False(t, ValidIDNumber("110105194912310021"), "wrong check char")
	assert.False(t, ValidIDNumber("11010519491331002X"), "month 13")
	assert.False(t, ValidIDNumber("1101051949123100"), "short")
	body := "33010619900307123"
	assert.True(t, ValidIDNumber(body+string(IDCheckChar(body))))
}

func TestAgeOn(t *testing.T) {
	id := "11010519491231002X"
	age, ok := AgeOn(id, time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC))
	assert.True(t, ok)
	assert.Equal(t, 76, age)
	age, _ = AgeOn(id, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, 77, age)
}

func TestValidCard(t *testing.T) {
	assert.True(t, ValidCard("4111111111111111"))
	assert.False(t, ValidCard("4111111111111112"))
	body := "62220210011234567"
	assert.True(t, ValidCard(body+string(LuhnCheckDigit(body))))
}

func TestMasks(t *testing.T) {
	assert.Equal(t, "张*", MaskName("张三丰"))
	assert.Equal(t, "3301**********1234", MaskIDNumber("330106199003071234"))
	assert.Equal(t, "138****5678", MaskPhone("13812345678"))
	assert.Equal(t, "***************1234", MaskCard("6214830100000001234"))
	assert.True(t, ValidPhone("13812345678"))
	assert.False(t, ValidPhone("23812345678"))
}
