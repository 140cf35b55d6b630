// Package kyc holds the identity checks of real-name registration and account
// opening: the resident ID number (GB 11643, ISO 7064 MOD 11-2 check digit), the
// bank card number (Luhn), phone numbers, and the masks used in disclosure
// (docs/rules.md "Disclosure").
package kyc

import (
	"strings"
	"time"
	"unicode/utf8"
)

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// ValidIDNumber reports whether id is an 18-character resident ID number with
// a real birth date and a correct MOD 11-2 check character.
func ValidIDNumber(id string) bool {
	if len(id) != 18 {
		return false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * idWeights[i]
	}
	if strings.ToUpper(id[17:]) != string(idCheckChars[sum%11]) {
		return false
	}
	_, ok := BirthDate(id)
	return ok
}

// IDCheckChar returns the check character for the first 17 digits of an ID
// number; test fixtures use it to build valid numbers.
func IDCheckChar(first17 string) byte {
	sum := 0
	for i := 0; i < 17 && i < len(first17); i++ {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// BirthDate reads the birth date held in digits 7–14 of an ID number.
func BirthDate(id string) (time.Time, bool) {
	if len(id) < 14 {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", id[6:14])
	if err != nil || d.Year() < 1900 {
		return time.Time{}, false
	}
	return d, true
}

// AgeOn is the holder's age in whole years on the given date.
func AgeOn(id string, on time.Time) (int, bool) {
	b, ok := BirthDate(id)
	if !ok {
		return 0, false
	}
	age := on.Year() - b.Year()
	if on.Month() < b.Month() || (on.Month() == b.Month() && on.Day() < b.Day()) {
		age--
	}
	return age, true
}

// ValidCard reports whether a bank card number (12–19 digits) passes Luhn.
func ValidCard(card string) bool {
	if len(card) < 12 || len(card) > 19 {
		return false
	}
	sum := 0
	double := false
	for i := len(card) - 1; i >= 0; i-- {
		c := card[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// LuhnCheckDigit returns the digit that completes a card number body.
func LuhnCheckDigit(body string) byte {
	for d := byte('0'); d <= '9'; d++ {
		if ValidCard(body + string(d)) {
			return d
		}
	}
	return '0'
}

// ValidPhone accepts a mainland mobile number: 11 digits starting with 1.
func ValidPhone(p string) bool {
	if len(p) != 11 || p[0] != '1' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// MaskName keeps the family name: 张三 → 张*.
func MaskName(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "*"
	}
	return name[:size] + "*"
}

// MaskIDNumber keeps the first 4 and last 4: 3301**********1234.
func MaskIDNumber(id string) string {
	if len(id) < 8 {
		return strings.Repeat("*", len(id))
	}
	return id[:4] + strings.Repeat("*", len(id)-8) + id[len(id)-4:]
}

// MaskPhone keeps the first 3 and last 4: 138****5678.
func MaskPhone(p string) string {
	if len(p) < 7 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// MaskCard keeps the last 4 digits of a bank card: ************1234.
func MaskCard(card string) string {
	if len(card) < 4 {
		return strings.Repeat("*", len(card))
	}
	return strings.Repeat("*", len(card)-4) + card[len(card)-4:]
}
