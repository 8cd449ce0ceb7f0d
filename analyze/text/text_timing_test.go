package text

import "testing"

var benchPosts = []string{
	"How are butterflies surviving the #AustralianFires? Julie Favell was putting out water for wildlife that survived the fires when she witnessed common brown butterflies (Heteronympha merope) fluttering in a moist wombat hole. Footage by Julie Favell pic.twitter.com/0eJtwJyS1J — Center for Bio Div (@CenterForBioDiv) January 14, 2020",
	"Thiếu tướng Nguyễn Quốc Toản - Chánh văn phòng, Người phát ngôn Bộ Công an - cho biết người dân cần tỉnh táo, nâng cao cảnh giác.",
	"Nguoi dan can tinh tao, nang cao canh giac tren khong gian mang, khong chia se thong tin chua kiem chung.",
	"Le gouvernement a annoncé qu'il réduirait les impôts de 3,5 % l'année prochaine, selon l'AFP.",
}

func BenchmarkAnalyze(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Analyze(benchPosts[i%len(benchPosts)], "")
	}
}

func BenchmarkDetectLang(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		DetectLang(benchPosts[i%len(benchPosts)])
	}
}
