package text

import "strings"

// Stopword lists: the Snowball lists for English and French, and the most
// frequent Vietnamese function syllables. They serve twice: as stopwords
// and as the profiles DetectLang counts.
var (
	stopEN = set(`a about above after again against all am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her here here's
hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more
most mustn't my myself no nor not of off on once only or other ought our ours ourselves out over own same shan't
she she'd she'll she's should shouldn't so some such than that that's the their theirs them themselves then there
there's these they they'd they'll they're they've this those through to too under until up very was wasn't we
we'd we'll we're we've were weren't what what's when when's where where's which while who who's whom why why's
with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves just also will via s t
said says say amp rt`)
	stopFR = set(`au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me même mes
moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
vous c d j l à m n s t y été étée étées étés étant suis es est sommes êtes sont serai seras sera serons serez
seront serais serait serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes furent sois soit
soyons soyez soient fusse fusses fût fussions fussiez fussent ayant eu eue eues eus ai as avons avez ont aurai
auras aura aurons aurez auront aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eûmes
eûtes eurent aie aies ait ayons ayez aient eusse eusses eût eussions eussiez eussent ceci cela celà cet cette ici
ils les leurs quel quels quelle quelles sans soi selon plus fait faire dit selon comme tout tous toute toutes`)
	stopVI = set(`và của là cho những các được không người trong một có đã sẽ với này tại từ khi đến theo về
như cũng nhưng thì để ra vào lại nhiều đang còn bị nên do hay hoặc rằng sau trên dưới qua năm ngày hơn rất
vẫn mà nó họ chúng ta tôi bạn anh chị ông bà việc điều cần phải nếu vì nào đó đây thế gì ai ở`)
	// stopVIFolded recognises unaccented Vietnamese; only syllables that are
	// rare as English or French words are kept, so the profile stays decisive.
	stopVIFolded = set(`va cua cho nhung cac duoc khong nguoi trong mot voi nay tai tu khi den theo
nhu cung thi vao lai nhieu dang bi nen hoac rang sau tren duoi qua nam ngay hon rat
chung toi viec dieu phai neu nao gi`)
	// vietnameseOnly are syllables that almost never occur outside
	// Vietnamese, even unaccented: they break ties with English and French.
	vietnameseOnly = set(`nhung duoc khong nguoi trong mot cua voi nhieu dang theo cung viec dieu phai nhu hoac
rang duoi chung toi thanh pho nuoc tinh huyen xa bo cong viet nam ha noi tp hcm giao thong dan moi truong nha
nhan vien tien dong trieu ty hoc sinh benh vien cho tai nan`)
)

// stopVIAnyFold holds every fold of stopVI: the phrase units of topic keys
// and language identification ask whether a syllable may be a stopword
// at all, whatever content word shares its fold.
var stopVIAnyFold = func() map[string]bool {
	m := make(map[string]bool, len(stopVI))
	for w := range stopVI {
		m[FoldDiacritics(w)] = true
	}
	return m
}()

// stopVIUnaccented holds stopVI folded, for Vietnamese written without
// diacritics, where a folded syllable is all there is to judge. Folding
// merges words, so it leaves out the folds a content word shares with a
// stopword: "ban" is bạn (friend) but also bàn (goal, table) and bán
// (sell), "nam" năm (year) but also Nam (south, Việt Nam). Accented text is
// judged on stopVI alone, so "bàn" is kept there whatever the folds.
var stopVIUnaccented = func() map[string]bool {
	// A fold listed here is also a common content word.
	ambiguous := set(`ban nam ba cho sau lai toi bi chi nao thi can hon dang tu den ve con the do ong nen
ma ta mot vi ra vao ngay qua`)
	m := make(map[string]bool, len(stopVI))
	for w := range stopVI {
		if f := FoldDiacritics(w); !ambiguous[f] {
			m[f] = true
		}
	}
	return m
}()

func set(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// IsStopword reports whether the normalised word w is a stopword in lang
// ("und" checks every list).
func IsStopword(w, lang string) bool {
	switch lang {
	case "en":
		return stopEN[w]
	case "fr":
		return stopFR[w] || stopFR[FoldDiacritics(w)]
	case "vi":
		// A word with diacritics is judged as written; one without may
		// come from unaccented text, where the folded list applies.
		return stopVI[w] || !HasDiacritics(w) && stopVIUnaccented[w]
	}
	return stopEN[w] || stopFR[w] || stopVI[w]
}

// isStopword is IsStopword without allocating for the folded form.
func isStopword(w, lang string) bool {
	switch lang {
	case "en":
		return stopEN[w]
	case "fr":
		return stopFR[w] || inFolded(stopFR, w)
	case "vi":
		return stopVI[w] || firstFold(w) == len(w) && stopVIUnaccented[w]
	}
	return stopEN[w] || stopFR[w] || stopVI[w]
}

// inFolded reports whether FoldDiacritics(w) is in m, folding into a stack
// buffer (the map look-up of string(bytes) does not allocate).
func inFolded(m map[string]bool, w string) bool {
	i := firstFold(w)
	if i == len(w) {
		return m[w]
	}
	var tmp [64]byte
	return m[string(appendFold(append(tmp[:0], w[:i]...), w[i:]))]
}

// stopENFR is the union of the English and French lists (entities drops
// both in one look-up).
var stopENFR = func() map[string]bool {
	m := make(map[string]bool, len(stopEN)+len(stopFR))
	for _, s := range []map[string]bool{stopEN, stopFR} {
		for w := range s {
			m[w] = true
		}
	}
	return m
}()

// stopAny is the union of every stopword list, as seen by IsStopword on a
// folded word.
var stopAny = func() map[string]bool {
	m := make(map[string]bool, len(stopEN)+len(stopFR)+len(stopVI)+len(stopVIUnaccented))
	for _, s := range []map[string]bool{stopEN, stopFR, stopVI, stopVIUnaccented} {
		for w := range s {
			m[w] = true
		}
	}
	return m
}()

// IsFoldedStopword reports whether w, already folded by FoldDiacritics, is
// a stopword of any supported language: IsStopword(w, l) for one of "en",
// "fr", "vi", in one look-up.
func IsFoldedStopword(w string) bool { return stopAny[w] }
