package text

import "strings"

// teencode maps the abbreviations and teencode common in Vietnamese posts
// to the words they stand for, so "ko dc" meets "không được" in a fact.
// Only unambiguous ones: "đt" is điện thoại but also đội tuyển in sports
// news, "bn" bạn but also bao nhiêu, "tr" triệu, trời or trường, "hs"
// học sinh or hồ sơ, so those stay as written. Applied to Vietnamese text
// only; keys are lower-case, as words are after normalisation.
var teencode = map[string]string{
	"ko": "không", "k": "không", "hok": "không", "kh": "không", "khg": "không", "khong": "không",
	"dc": "được", "đc": "được",
	"j":  "gì",
	"vs": "với",
	"ng": "người",
	"bt": "bình thường",
	"hn": "hà nội",
	"sg": "tp hcm", "hcm": "tp hcm", "tphcm": "tp hcm",
	"mik": "mình", "mk": "mình", "mh": "mình",
	"r": "rồi", "rùi": "rồi", "oy": "rồi",
	"ns":  "nói",
	"trc": "trước",
	"vn":  "việt nam",
	"ntn": "như thế nào",
	"cx":  "cũng", "cg": "cũng",
	"lm":  "làm",
	"ms":  "mới",
	"nhg": "nhưng",
	"bik": "biết", "bít": "biết",
	"hnay": "hôm nay",
	"wa":   "quá",
	"thik": "thích",
	"ck":   "chồng", "vk": "vợ",
	"ny":  "người yêu",
	"tq":  "trung quốc",
	"sv":  "sinh viên",
	"gv":  "giáo viên",
	"cty": "công ty",
}

// teencodeFolded holds teencode's expansions without diacritics, for
// text written without them: the expansion then reads like the rest.
var teencodeFolded = func() map[string]string {
	m := make(map[string]string, len(teencode))
	for k, v := range teencode {
		m[k] = FoldDiacritics(v)
	}
	return m
}()

// teencodeMaxLen is the longest key in bytes: longer words skip the look-up.
const teencodeMaxLen = 6

// expandTeencode replaces teencode words (see teencode) by the words they
// stand for, spelt with diacritics when the text has any. "k" after a
// number is a thousand ("50 k"), not không, and an expansion does not
// repeat the word before it ("tp hcm" stays "tp hcm"). words is returned
// as it is when nothing matches, the common case.
func expandTeencode(words []word, accented bool) []word {
	table := teencode
	if !accented {
		table = teencodeFolded
	}
	first := -1
	for i := range words {
		if lookupTeencode(table, words, i) != "" {
			first = i
			break
		}
	}
	if first < 0 {
		return words
	}
	out := make([]word, 0, len(words)+4)
	out = append(out, words[:first]...)
	for i, w := range words[first:] {
		i += first
		exp := lookupTeencode(table, words, i)
		if exp == "" {
			out = append(out, w)
			continue
		}
		parts := strings.Fields(exp)
		if i > 0 && !w.brk && len(parts) > 1 && words[i-1].s == parts[0] {
			parts = parts[1:]
		}
		for j, p := range parts {
			out = append(out, word{s: p, start: w.start, brk: w.brk && j == 0})
		}
	}
	return out
}

// lookupTeencode returns the expansion of words[i], or "".
func lookupTeencode(table map[string]string, words []word, i int) string {
	w := words[i]
	if w.num || len(w.s) > teencodeMaxLen {
		return ""
	}
	exp := table[w.s]
	if exp != "" && w.s == "k" && i > 0 && words[i-1].num && !w.brk {
		return "" // "50 k": fifty thousand
	}
	return exp
}
