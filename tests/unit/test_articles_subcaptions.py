"""Sub-caption splitting: label styles, ranges, lists, positions, shared context, inline labels, no labels.

Captions marked "real" are short excerpts of figure captions of articles under CC BY / public domain:
- BMC Microbiology 11:174, doi 10.1186/1471-2180-11-174, CC BY 2.0 (Dennehy & Wang)
- Environmental Health Perspectives 116:1694, doi 10.1289/ehp.11570, public domain (Lema et al.)
- PLOS Computational Biology, doi 10.1371/journal.pcbi.1004692, CC BY 4.0 (Takemura et al.)
- PLOS Medicine, doi 10.1371/journal.pmed.1001786, CC BY 4.0 (Mroz et al.)
- PLoS ONE 7:e46493, doi 10.1371/journal.pone.0046493, CC BY (Point et al.)
"""

from __future__ import annotations

import pytest
from lxml import etree

from mednarratives.articles.subcaptions import detect, split_subcaptions


def S(labels, text, context=""):
    return {"labels": labels, "text": text, "context": context}


_HNSCC = "Relation of intra-tumor heterogeneity to overall survival in HNSCC. Corresponding HRs are in the main text."

CASES = [
    # 1 parenthesised capitals after a title
    ("Brain MRI of a 45-year-old man. (A) Axial T2 image shows a lesion. (B) Coronal FLAIR image.",
     [S(["A"], "Axial T2 image shows a lesion.", "Brain MRI of a 45-year-old man."),
      S(["B"], "Coronal FLAIR image.", "Brain MRI of a 45-year-old man.")]),
    # 2 parenthesised lower case, no context
    ("(a) Chest radiograph. (b) CT of the chest.",
     [S(["a"], "Chest radiograph."), S(["b"], "CT of the chest.")]),
    # 3 "A," style
    ("A, Axial contrast-enhanced CT. B, Coronal reformation.",
     [S(["A"], "Axial contrast-enhanced CT."), S(["B"], "Coronal reformation.")]),
    # 4 "a)" style
    ("Liver lesion. a) Grey-scale ultrasound. b) Colour Doppler image.",
     [S(["a"], "Grey-scale ultrasound.", "Liver lesion."), S(["b"], "Colour Doppler image.", "Liver lesion.")]),
    # 5 "A." style
    ("A. Fundus photograph of the right eye. B. OCT scan through the fovea.",
     [S(["A"], "Fundus photograph of the right eye."), S(["B"], "OCT scan through the fovea.")]),
    # 6 "A:" style
    ("Knee MRI. A: T1-weighted sagittal image. B: Proton density image.",
     [S(["A"], "T1-weighted sagittal image.", "Knee MRI."), S(["B"], "Proton density image.", "Knee MRI.")]),
    # 7 bold letters without punctuation (JATS <bold>A</bold>)
    ("Endoscopic findings. <b>A</b> Ulcer in the gastric antrum. <b>B</b> Healed ulcer after 8 weeks.",
     [S(["A"], "Ulcer in the gastric antrum.", "Endoscopic findings."),
      S(["B"], "Healed ulcer after 8 weeks.", "Endoscopic findings.")]),
    # 8 ranges with an en dash and a hyphen
    ("Serial imaging. (A\u2013C) CT at 1, 3 and 6 months. (D-E) Follow-up MRI.",
     [S(["A", "B", "C"], "CT at 1, 3 and 6 months.", "Serial imaging."),
      S(["D", "E"], "Follow-up MRI.", "Serial imaging.")]),
    # 9 lists
    ("(A, B) Axial and coronal CT. (C and D) 3D reconstructions. (E) Angiogram.",
     [S(["A", "B"], "Axial and coronal CT."), S(["C", "D"], "3D reconstructions."), S(["E"], "Angiogram.")]),
    # 10 position words
    ("Chest radiographs. Left: before treatment. Right: after two weeks of antibiotics.",
     [S(["left"], "before treatment.", "Chest radiographs."),
      S(["right"], "after two weeks of antibiotics.", "Chest radiographs.")]),
    # 11 top / bottom
    ("Survival analysis. Top, Kaplan-Meier curves for overall survival. Bottom, curves for progression-free "
     "survival.",
     [S(["top"], "Kaplan-Meier curves for overall survival.", "Survival analysis."),
      S(["bottom"], "curves for progression-free survival.", "Survival analysis.")]),
    # 12 upper / lower panels (normalised to top / bottom)
    ("Upper panel: H&E staining of the tumour. Lower panel: Ki-67 immunostaining.",
     [S(["top"], "H&E staining of the tumour."), S(["bottom"], "Ki-67 immunostaining.")]),
    # 13 no labels: one sub-caption, the whole caption
    ("Flow diagram of patient selection. n, number of patients.",
     [S([], "Flow diagram of patient selection. n, number of patients.")]),
    # 14 the article "A" at a sentence start is no label
    ("A 45-year-old man with chest pain. Coronary angiography shows a proximal stenosis.",
     [S([], "A 45-year-old man with chest pain. Coronary angiography shows a proximal stenosis.")]),
    # 15 the article "A" before real labels stays in the context
    ("A 62-year-old woman with headache. (A) Axial CT. (B) Axial T2-weighted MRI.",
     [S(["A"], "Axial CT.", "A 62-year-old woman with headache."),
      S(["B"], "Axial T2-weighted MRI.", "A 62-year-old woman with headache.")]),
    # 16 notes at the end that concern every panel go to the context
    ("Histology. (A) H&E stain. (B) Ki-67 stain. Scale bars, 50 \u00b5m. *p < 0.05.",
     [S(["A"], "H&E stain.", "Histology. Scale bars, 50 \u00b5m. *p < 0.05."),
      S(["B"], "Ki-67 stain.", "Histology. Scale bars, 50 \u00b5m. *p < 0.05.")]),
    # 17 a back-reference to (A) inside B is text, not a label
    ("(A) Baseline CT. (B) The same slice as in (A) after three cycles of chemotherapy.",
     [S(["A"], "Baseline CT."), S(["B"], "The same slice as in (A) after three cycles of chemotherapy.")]),
    # 18 genus abbreviations are not labels
    ("E. coli colonies on blood agar. B. subtilis grown for comparison.",
     [S([], "E. coli colonies on blood agar. B. subtilis grown for comparison.")]),
    # 19 labels continuing inside one sentence
    ("(A) Axial, (B) coronal and (C) sagittal CT of the wrist.",
     [S(["A"], "Axial"), S(["B"], "coronal"), S(["C"], "sagittal CT of the wrist.")]),
    # 20 roman numerals
    ("(i) Pre-operative radiograph. (ii) Post-operative radiograph.",
     [S(["i"], "Pre-operative radiograph."), S(["ii"], "Post-operative radiograph.")]),
    # 21 "Panel A:" style
    ("Panel A: dermoscopy of the lesion. Panel B: histopathology.",
     [S(["A"], "dermoscopy of the lesion."), S(["B"], "histopathology.")]),
    # 22 brackets
    ("[A] Panoramic radiograph. [B] Cone-beam CT.",
     [S(["A"], "Panoramic radiograph."), S(["B"], "Cone-beam CT.")]),
    # 23 one label only: not a compound caption
    ("Axial CT (A) of the abdomen shows free fluid.",
     [S([], "Axial CT (A) of the abdomen shows free fluid.")]),
    # 24 inline position words in one sentence: one sub-caption for both
    ("CT before (left) and after (right) treatment. Window level 40 HU.",
     [S(["left", "right"], "CT before and after treatment.", "Window level 40 HU.")]),
    # 25 real (BMC Microbiol 11:174, Fig 2; bold caption title inside the paragraph)
    ("<b>Samples of a lysis recording and frequency distributions of various experimental treatments</b>. (A) "
     "Sample recordings from strain IN63. It takes about 5 sec for the upper left cell to disappear from view. "
     "(B) Sample frequency distributions of lysis times from strains IN56, IN67, IN68, SYP028. The bin size was "
     "2 min.",
     [S(["A"], "Sample recordings from strain IN63. It takes about 5 sec for the upper left cell to disappear "
               "from view.",
        "Samples of a lysis recording and frequency distributions of various experimental treatments."),
      S(["B"], "Sample frequency distributions of lysis times from strains IN56, IN67, IN68, SYP028. The bin "
               "size was 2 min.",
        "Samples of a lysis recording and frequency distributions of various experimental treatments.")]),
    # 26 real (EHP 116:1694, Fig 2): labels inside one sentence -> that sentence for both labels
    ("Dietary exposure to PBDE-47 altered relative transcripts levels for TSH\u03b2 (A) and GPH\u03b1 (B) in the "
     "pituitary gland. Transcript levels are expressed relative to template RNA levels. *p < 0.05 compared with "
     "control.",
     [S(["A", "B"], "Dietary exposure to PBDE-47 altered relative transcripts levels for TSH\u03b2 and GPH\u03b1 in "
                    "the pituitary gland.",
        "Transcript levels are expressed relative to template RNA levels. *p < 0.05 compared with control.")]),
    # 27 real (PLoS ONE 7:e46493, Fig 2): bold "A," labels
    ("Inhibition of Lip-HSL proteins by MmPPOX. <b>A</b>, SDS-PAGE profile of the 9 Lip-HSL proteins used in "
     "this study. <b>B</b>, Residual activities of LipC, LipI, LipU, LipY and Cut6.",
     [S(["A"], "SDS-PAGE profile of the 9 Lip-HSL proteins used in this study.",
        "Inhibition of Lip-HSL proteins by MmPPOX."),
      S(["B"], "Residual activities of LipC, LipI, LipU, LipY and Cut6.", "Inhibition of Lip-HSL proteins by "
                                                                            "MmPPOX.")]),
    # 28 real (PLOS Comp Biol, Fig 4): bold "a." labels
    ("Properties of the Ensemble Tractogrpahy Conectome. <b>a.</b> Number of streamlines supported by each "
     "optimized connectome model. <b>b.</b> Proportion of white matter voxels covered by each connectome model. "
     "<b>c.</b> Streamline density in two connectome models.",
     [S(["a"], "Number of streamlines supported by each optimized connectome model.",
        "Properties of the Ensemble Tractogrpahy Conectome."),
      S(["b"], "Proportion of white matter voxels covered by each connectome model.",
        "Properties of the Ensemble Tractogrpahy Conectome."),
      S(["c"], "Streamline density in two connectome models.",
        "Properties of the Ensemble Tractogrpahy Conectome.")]),
    # 29 real (PLOS Comp Biol, Fig 6): labels inside a parenthesis never end a sentence
    ("Changes in optimal parameter between different white matter regions. Comparison of Rrmse in voxels along "
     "white matter pathways (<b>a.</b> U-fiber; <b>b.</b> ILF; see Fig 1) across connectome models. Error bar "
     "depicts \u00b11 s.e.m. across voxels.",
     [S(["a", "b"], "Comparison of Rrmse in voxels along white matter pathways (U-fiber; ILF; see Fig 1) across "
                    "connectome models.",
        "Changes in optimal parameter between different white matter regions. Error bar depicts \u00b11 s.e.m. "
        "across voxels.")]),
    # 30 real (PLOS Medicine, Fig 4): "Left," / "Right,"
    ("Relation of intra-tumor heterogeneity to overall survival in HNSCC. Left, for all 305 patients. Right, for "
     "78 patients receiving chemoradiation. Corresponding HRs are in the main text.",
     # the left panel says one sentence: the closing sentence is about both panels' HRs (issue #22)
     [S(["left"], "for all 305 patients.", _HNSCC), S(["right"], "for 78 patients receiving chemoradiation.", _HNSCC)]),
    # 31 a panel missing from the caption: the sequence may skip one letter at a leading label
    ("(A) Axial CT. (C) Coronal CT.", [S(["A"], "Axial CT."), S(["C"], "Coronal CT.")]),
    # 32 roman numerals inside a lettered panel stay text; parentheses that are not labels stay text
    ("Drug response (n = 12 per group). (A) Three conditions: (i) control, (ii) drug. (B) Western blot (arrow).",
     [S(["A"], "Three conditions: (i) control, (ii) drug.", "Drug response (n = 12 per group)."),
      S(["B"], "Western blot (arrow).", "Drug response (n = 12 per group).")]),
    # 33 a mention of another figure's panel is no label
    ("CT of the chest (compare Fig. 2B). (a) Before and (b) after drainage.",
     [S(["a"], "Before", "CT of the chest (compare Fig. 2B)."),
      S(["b"], "after drainage.", "CT of the chest (compare Fig. 2B).")]),
]


@pytest.mark.parametrize("caption, expected", CASES, ids=[f"case{i + 1}" for i in range(len(CASES))])
def test_split_subcaptions(caption, expected):
    assert split_subcaptions(caption) == expected


def test_enough_cases():
    assert len(CASES) >= 25


def test_lxml_caption_element_and_title_argument():
    el = etree.fromstring("<caption><title>Ultrasound of the thyroid</title><p><bold>A</bold>, transverse view. "
                          "<bold>B</bold>, longitudinal view.</p></caption>")
    expected = [S(["A"], "transverse view.", "Ultrasound of the thyroid."),
                S(["B"], "longitudinal view.", "Ultrasound of the thyroid.")]
    assert split_subcaptions(el) == expected
    assert split_subcaptions("<b>A</b>, transverse view. <b>B</b>, longitudinal view.",
                             title="Ultrasound of the thyroid") == expected


def test_modes():
    assert detect("(A) x. (B) y.")[0] == "leading"
    assert detect("x in males (A), but not in females (B).")[0] == "inline"
    assert detect("Left: x. Right: y.")[0] == "spatial-leading"
    assert detect("before (left) and after (right).")[0] == "spatial-inline"
    assert detect("No labels here.")[0] == "none"


def test_empty_caption():
    assert split_subcaptions("") == []
