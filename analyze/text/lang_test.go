package text

import "testing"

// TestDetectLangOther: text in a language DetectLang does not handle is
// "und", not the nearest of French and English, while unaccented
// Vietnamese that shares a spelling with those languages' words stays "vi".
func TestDetectLangOther(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := DetectLang(in); got != want {
			t.Errorf("DetectLang(%q) = %q, want %q", in, got, want)
		}
	}
	f("Java-Anwendungsserver: Red Hat gibt WildFly 10 frei\nDie nun verfügbare Version 10 des Enterprise-Java-Servers stellt die Basis für Red Hats kommerzielle Produkte dar und ist mit Java EE 7 kompatibel", LangUnd)
	f("SourceForge und Slashdot wechseln erneut den Besitzer", LangUnd)
	f("Rival de Putin é condenado a mais 20 dias de prisão, diz a agência", LangUnd)
	f("Relatório do governo dos EUA acusa militares de Mianmar de atrocidades contra muçulmanos", LangUnd)
	f("El gobierno anunció que las elecciones serán en marzo, según fuentes del ministerio", LangUnd)
	f("HLV Kim khen ngoi Xuan Son het loi, khang dinh khong phai vi sinh nhat", LangVI)
	f("Di chua mua Vu lan o TP.HCM: Nhung ngay nao co le bong hong cai ao", LangVI)
	f("Le gouvernement dément la rumeur sur la réforme des retraites", LangFR)
	f("Officials in Houston said the flood photo was fake", LangEN)
}
