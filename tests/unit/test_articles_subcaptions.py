"""Sub-caption splitting: label styles, ranges, lists, positions, shared context, inline labels, no labels.

Captions marked "real" are short excerpts of figure captions of articles under CC BY / public domain:
- BMC Microbiology 11:174, doi 10.1186/1471-2180-11-174, CC BY 2.0 (Dennehy & Wang)
- Virology Journal 10:201, doi 10.1186/1743-422X-10-201, CC BY 2.0 (Carter et al.)
- Malaria Journal 13:210, doi 10.1186/1475-2875-13-210, CC BY 4.0 (Le et al.)
- Ecology and Evolution 3:3804, doi 10.1002/ece3.747, CC BY 2.5 (Bulafu et al.)
- Case Reports in Cardiology 2016:7652869, doi 10.1155/2016/7652869, CC BY (open access, stated in the article)
- Bioinformatics 29:886, doi 10.1093/bioinformatics/btt066, CC BY 3.0 (Kamm et al.)
- BMC Infectious Diseases 15:493, doi 10.1186/s12879-015-1226-z, CC BY 4.0 (Alm et al.)
- Frontiers in Immunology 6:348, doi 10.3389/fimmu.2015.00348, CC BY 4.0 (de Cassan et al.)
- Epigenetics & Chromatin 1:8, doi 10.1186/1756-8935-1-8, CC BY 2.0 (Lepikhov et al.)
- Case Reports in Genetics 2016:9814928, doi 10.1155/2016/9814928, CC BY (open access, stated in the article)
- Case Reports in Medicine 2016:1397434, doi 10.1155/2016/1397434, CC BY (open access, stated in the article)
- Journal of Diabetes Research 2016:2345141, doi 10.1155/2016/2345141, CC BY (open access, stated in the article)
- Gastroenterology Research and Practice 2016:5623718, doi 10.1155/2016/5623718, CC BY (open access, stated in the
  article)
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


_HUMORAL = "Humoral responses. In all panels, IgG was measured. ND, not done."
_ZYGOTES = "Methylation in zygotes. Antibodies against: Scale bar 20 \u03bcm."
_RABBIT = "Rabbit zygotes. Panels: DNA \u2013 propidium iodide; 5meC \u2013 antibody. The arrows indicate sperm heads."
_ROUTES = "Synthetic routes. (a) 4-nitrophenyl carbonate, RT; (b) LiOH; (c) EDCI, DMF; (d) TFA."
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


# issue #22: patterns seen on real captions (PMC, PLOS, eLife, Pensoft, PeerJ); "real" excerpts are from the dev set
# devsets/articles/captions (licences and attribution in its README)
_TH = "Tibia apical portion of Bruchus spp. hind legs"
_NUP = "Nup98 dots. DAPI, 4',6-diamidino-2-phenylindole; EGFP, enhanced green fluorescent protein."
_TSA = "TSA effect. mRNA, messenger RNA; TSA, trichostatin A."
CASES += [
    # 34 letter-dot list separated by commas
    ("PCA for classification. A. Total % variance plot, B. Loadings of factor 1, C. Scores of the samples.",
     [S(["A"], "Total % variance plot", "PCA for classification."),
      S(["B"], "Loadings of factor 1", "PCA for classification."),
      S(["C"], "Scores of the samples.", "PCA for classification.")]),
    # 35 a single labelled panel
    ("Chest CT of the patient. A. Axial image shows a nodule.",
     [S(["A"], "Axial image shows a nodule.", "Chest CT of the patient.")]),
    # 36 rows
    ("Serial MRI. Upper row: T1-weighted images. Lower row: T2-weighted images.",
     [S(["top"], "T1-weighted images.", "Serial MRI."), S(["bottom"], "T2-weighted images.", "Serial MRI.")]),
    # 37 bare ranges without brackets, a range followed by its members
    ("Liver model. A. Gross liver. B\u2013E histopathology, B and C. H&E sections, D and E. trichrome stain. "
     "F\u2013H immunohistochemistry.",
     [S(["A"], "Gross liver.", "Liver model."), S(["B", "C"], "histopathology H&E sections", "Liver model."),
      S(["D", "E"], "histopathology trichrome stain.", "Liver model."),
      S(["F", "G", "H"], "immunohistochemistry.", "Liver model.")]),
    # 38 the case changes half-way
    ("Tumour sections. (A, B) H&E staining. c-d) Ki-67 staining.",
     [S(["A", "B"], "H&E staining.", "Tumour sections."), S(["c", "d"], "Ki-67 staining.", "Tumour sections.")]),
    # 39 primes
    ("Knock-down. (A) Control. (B) siRNA. (B\u2032) Higher magnification of B. (C) Rescue.",
     [S(["A"], "Control.", "Knock-down."), S(["B"], "siRNA.", "Knock-down."),
      S(["B\u2032"], "Higher magnification of B.", "Knock-down."), S(["C"], "Rescue.", "Knock-down.")]),
    # 40 "(B–D) shared text. (B) own text": the shared text opens each member's text, "(B)" is no text
    ("Imaging. (A) Radiograph. (B\u2013D) Sagittal MRI. (B) Baseline. (C) 6 months. (D) 12 months.",
     [S(["A"], "Radiograph.", "Imaging."), S(["B"], "Sagittal MRI. Baseline.", "Imaging."),
      S(["C"], "Sagittal MRI. 6 months.", "Imaging."), S(["D"], "Sagittal MRI. 12 months.", "Imaging.")]),
    # 41 real (eLife 03032, Fig 2): bold letters after "in", "to" are references, not labels
    ("Repression. (<b>A</b>) Duplex. (<b>B</b>) The reporter constructs used in <b>C</b> to <b>E</b>. "
     "(<b>C</b>) mRNA levels. (<b>D</b>) Protein levels. (<b>E</b>) Ratios.",
     [S(["A"], "Duplex.", "Repression."), S(["B"], "The reporter constructs used in C to E.", "Repression."),
      S(["C"], "mRNA levels.", "Repression."), S(["D"], "Protein levels.", "Repression."),
      S(["E"], "Ratios.", "Repression.")]),
    # 42 real (PLOS ONE 0202746, Fig 9): bold panel numbers
    ("SEM of foraminifera. <b>1.</b> Elphidium crispum; <b>2.</b> Textularia sp.",
     [S(["1"], "Elphidium crispum", "SEM of foraminifera."), S(["2"], "Textularia sp.", "SEM of foraminifera.")]),
    # 43 real (ZooKeys 466, Figs 1-12, 52-67): numbered plates, ranges, range headers, a closing "; bar" note
    ("Bruchinae, dorsal and lateral view. <b>1\u20132</b> Spermophagus sericeus <b>3\u20134</b> Bruchus loti; "
     "black bar = 1 mm.",
     [S(["1", "2"], "Spermophagus sericeus", "Bruchinae, dorsal and lateral view. black bar = 1 mm."),
      S(["3", "4"], "Bruchus loti", "Bruchinae, dorsal and lateral view. black bar = 1 mm.")]),
    (f"Male mid legs. <b>52</b> Bruchus affinis <b>53\u201354</b> {_TH} <b>53</b> Bruchus pisorum <b>54</b> "
     "Bruchus sibiricus",
     [S(["52"], "Bruchus affinis", "Male mid legs."), S(["53"], f"{_TH} Bruchus pisorum", "Male mid legs."),
      S(["54"], f"{_TH} Bruchus sibiricus", "Male mid legs.")]),
    # 45 real (PeerJ 3360, Fig 6 and Fig 3): lists filling each other's gaps; labels repeated in a later sentence
    ("Variation in molluscs (A, D and G), polychaetes (B, E and H), and crustaceans (C, F and I). Error bars "
     "denote standard errors.",
     [S(list("ADGBEHCFI"), "Variation in molluscs, polychaetes, and crustaceans.",
        "Error bars denote standard errors.")]),
    ("nMDS of environmental data (A) and of abundance data (B). Samples are coloured by date. Stress values are "
     "0.10 (A) and 0.19 (B).",
     [S(["A", "B"], "nMDS of environmental data and of abundance data. Stress values are 0.10 and 0.19.",
        "Samples are coloured by date.")]),
    # 47 real (PLOS ONE 0202746, Fig 2): an abbreviation list after the panels is no panel; the other panel says
    # one sentence, so the closing sentences are about the whole figure
    ("Reef analyses. (A) FORAM index per site. (B) Chlorophyll per site. Abundances from 128 samples. D, Darwin; "
     "B, Baltra.",
     [S(["A"], "FORAM index per site.", "Reef analyses. Abundances from 128 samples. D, Darwin; B, Baltra."),
      S(["B"], "Chlorophyll per site.", "Reef analyses. Abundances from 128 samples. D, Darwin; B, Baltra.")]),
    # 48 ... unless the closing sentence names the last panel
    ("Fascicles. a. Short fascicles. b. Long fascicles. c. Ensemble. Colors in c show parameters.",
     [S(["a"], "Short fascicles.", "Fascicles."), S(["b"], "Long fascicles.", "Fascicles."),
      S(["c"], "Ensemble. Colors in c show parameters.", "Fascicles.")]),
    # 49 real (PhytoKeys 28, Fig 3): initials do not end a sentence
    ("SEM of fruit. <b>A, B</b>Lepidosperma inops (A. Moscal 18031) <b>C, D</b>Lepidosperma sp. (G.T. Plunkett "
     "100). Scale bars = 0.5 mm.",
     [S(["A", "B"], "Lepidosperma inops (A. Moscal 18031)", "SEM of fruit. Scale bars = 0.5 mm."),
      S(["C", "D"], "Lepidosperma sp. (G.T. Plunkett 100).", "SEM of fruit. Scale bars = 0.5 mm.")]),
    # 50 real (eLife 59222, Fig 2): nested ranges: "(A–D)" opens A..D, "(B–C)" opens B and C
    ("Duplication. (A\u2013D) SIM projections. (A) Model. (B\u2013C) Staged by Spc42. (B) Tub4. (C) Spc72. (D) Nud1. "
     "(E) New model.",
     [S(["A"], "SIM projections. Model.", "Duplication."),
      S(["B"], "SIM projections. Staged by Spc42. Tub4.", "Duplication."),
      S(["C"], "SIM projections. Staged by Spc42. Spc72.", "Duplication."),
      S(["D"], "SIM projections. Nud1.", "Duplication."), S(["E"], "New model.", "Duplication.")]),
    # 51 real (eLife 59222, Fig 1): "(e)" inside panel D is no panel E when "(E)" follows; a closing scale bar is
    # the last panel's own when an earlier panel gives its own too
    ("Spindles. (A) Schematic. (B) Average image. Scale bar, 200 nm. (C) Intensities. (D) Images: (a) one pole; "
     "(e) symmetric. (E) Quantitation. Scale bar, 2 \u00b5m.",
     [S(["A"], "Schematic.", "Spindles."), S(["B"], "Average image. Scale bar, 200 nm.", "Spindles."),
      S(["C"], "Intensities.", "Spindles."), S(["D"], "Images: (a) one pole; (e) symmetric.", "Spindles."),
      S(["E"], "Quantitation. Scale bar, 2 \u00b5m.", "Spindles.")]),
    # 52 real (eLife 59222, Fig 1-S3): a label named again in a later sentence gets both sentences
    ("Side and top views. SPBs in side view (a-b) and top view (c). Nud1 confirms the side view (b). Scale bar, "
     "200 nm.",
     [S(["a", "c"], "SPBs in side view and top view.", "Side and top views. Scale bar, 200 nm."),
      S(["b"], "SPBs in side view and top view. Nud1 confirms the side view.",
        "Side and top views. Scale bar, 200 nm.")]),
    # 53 real (eLife 59222, Fig 1-S4, 2-S1): "Values are plotted" is the panel's; "In all cases" is the figure's
    ("Ratios. (A) Images. Cells were imaged by SIM. (B) Intensities were measured. Values are plotted by stage. In "
     "all cases, Tub4 was the reference.",
     [S(["A"], "Images. Cells were imaged by SIM.", "Ratios. In all cases, Tub4 was the reference."),
      S(["B"], "Intensities were measured. Values are plotted by stage.",
        "Ratios. In all cases, Tub4 was the reference.")]),
    # 54 real (eLife 09540, Figs 1, 7, 7-S2): closing abbreviation lists are the figure's, also when they start in
    # lower case; "Data are mean ..." given panel by panel and "The values were normalized" are the panel's own
    ("Nup98 dots. (A) Localization. Bar, 10 \u03bcm. (B) ChIP-qPCR. Data are mean values \u00b1 SEM. (C) RNAPII. Data "
     "are mean values \u00b1 SEM. DAPI, 4',6-diamidino-2-phenylindole; EGFP, enhanced green fluorescent protein.",
     [S(["A"], "Localization. Bar, 10 \u03bcm.", _NUP), S(["B"], "ChIP-qPCR. Data are mean values \u00b1 SEM.", _NUP),
      S(["C"], "RNAPII. Data are mean values \u00b1 SEM.", _NUP)]),
    ("TSA effect. (A) Immunoblot of cell extracts. Blots were cut. (B) qPCR of mRNA. The values were normalized to "
     "GAPDH. mRNA, messenger RNA; TSA, trichostatin A.",
     [S(["A"], "Immunoblot of cell extracts. Blots were cut.", _TSA),
      S(["B"], "qPCR of mRNA. The values were normalized to GAPDH.", _TSA)]),
    # 56 real (eLife 09540, Fig 6-S1): a change of case at a leading label, inline "(c)" after it is no veto
    ("Venn diagrams. (a) Overlap in untreated cells. (b) Overlap in control cells. (C and D) Overlap in control (c) "
     "or treated (d) cells.",
     [S(["a"], "Overlap in untreated cells.", "Venn diagrams."),
      S(["b"], "Overlap in control cells.", "Venn diagrams."),
      S(["C", "D"], "Overlap in control (c) or treated (d) cells.", "Venn diagrams.")]),
    # 57 real (Virology Journal 10:201, Figs 5 and 2): a closing "X = expansion" list is the figure's ...
    ("<b>Optimal NaCl and SDS. A)</b> NaCl was titrated. 1.5 M was optimal. <b>B)</b> SDS was titrated. Results "
     "show 0.5% SDS. SDS = sodium dodecyl sulfate.",
     [S(["A"], "NaCl was titrated. 1.5 M was optimal.", "Optimal NaCl and SDS. SDS = sodium dodecyl sulfate."),
      S(["B"], "SDS was titrated. Results show 0.5% SDS.", "Optimal NaCl and SDS. SDS = sodium dodecyl sulfate.")]),
    # 58 ... unless an earlier panel gives its own "=" definitions
    ("<b>DNAzyme and genome. A)</b> DDZ design. R = Purine. Y = Pyrimidine. <b>B)</b> The DENV-2 genome. Genes are "
     "shown in green. UTR = untranslated region, PA = polyadenylation.",
     [S(["A"], "DDZ design. R = Purine. Y = Pyrimidine.", "DNAzyme and genome."),
      S(["B"], "The DENV-2 genome. Genes are shown in green. UTR = untranslated region, PA = polyadenylation.",
        "DNAzyme and genome.")]),
    # 59 real (Malaria Journal 13:210, Fig 2): a list of another case inside the last panel is no panel sequence,
    # nor does it continue the panels across the case change
    ("<b>Synthetic routes. (A)</b> Route for known inhibitors. <b>(B)</b> Inverted route. (a) 4-nitrophenyl "
     "carbonate, RT; (b) LiOH; (c) EDCI, DMF; (d) TFA.",
     [S(["A"], "Route for known inhibitors.", _ROUTES), S(["B"], "Inverted route.", _ROUTES)]),
    # 60 real (Malaria Journal 13:210, Fig 9): inline panels followed by a roman list of conditions
    ("<b>Inactive for two proteases.</b> Cleavage of <b>(A)</b> YVAD-pNA by caspase-I, or <b>(B)</b> gp78 by TEV, "
     "in the presence of: (i) DMSO, (ii) 3, (iii) iodoacetamide.",
     [S(["A", "B"], "Cleavage of YVAD-pNA by caspase-I, or gp78 by TEV, in the presence of: (i) DMSO, (ii) 3, "
        "(iii) iodoacetamide.", "Inactive for two proteases.")]),
    # 61 real (Ecology and Evolution 3:3804, Fig 2): a range of site names after the inline panels is no panel
    ("Changes in (A) >40 cm DBH, (B) 20\u201340 cm, and (C) <20 cm DBH in forest fragments (a\u2013k). Names are "
     "in Table 1.",
     [S(["A", "B", "C"], "Changes in >40 cm DBH, 20\u201340 cm, and <20 cm DBH in forest fragments (a\u2013k).",
        "Names are in Table 1.")]),
    # 62 real (Case Reports in Cardiology 2016:7652869, Figs 2 and 4): "(a) and (b)", "(a)–(c)" are one list label
    ("(a) and (b) Coronary angiography shows RCA (arrow). The caliber of RCA was small.",
     [S(["a", "b"], "Coronary angiography shows RCA (arrow). The caliber of RCA was small.")]),
    # 63 (same source)
    ("(a)\u2013(c) Reconstruction 3D cardiac MSCT shows RCA.",
     [S(["a", "b", "c"], "Reconstruction 3D cardiac MSCT shows RCA.")]),
    # 64 real (Bioinformatics 29:886, Fig 2): "Panel (A) depicts ..." opens panel A's segment, "Panel" is label
    ("Secure GWAS has three stages. Panel (A) depicts how stages are linked. Data are shared. Panel (B) describes "
     "two scenarios.",
     [S(["A"], "depicts how stages are linked. Data are shared.", "Secure GWAS has three stages."),
      S(["B"], "describes two scenarios.", "Secure GWAS has three stages.")]),
    # 65 real (BMC Infectious Diseases 15:493, Fig 1): labels mapped onto a list by "respectively" share the sentence
    ("Linear range. Panel (a) represents the DENV1 assay, and (b), (c), and (d) the DENV2, DENV3, and DENV4 "
     "assays, respectively. Dots are means.",
     [S(["a", "b", "c", "d"], "represents the DENV1 assay, and the DENV2, DENV3, and DENV4 assays, respectively.",
        "Linear range. Dots are means.")]),
    # 66 real (Gastroenterology Research and Practice 2016:5623718, Fig 9): a panel not named (c) is left out when
    # the labels go on after it
    ("Intussusception. A target mass (a, b) due to sigmoid cancer (d). Coronal (e) and sagittal (f) reformatting "
     "depict the extent.",
     [S(["a", "b", "d"], "A target mass due to sigmoid cancer.", "Intussusception."),
      S(["e", "f"], "Coronal and sagittal reformatting depict the extent.", "Intussusception.")]),
    # 67 real (Frontiers in Immunology 6:348, Fig 1): when the other panels say one sentence, a closing sentence that
    # names an earlier panel is that panel's, "In all panels ..." the figure's, one naming the last panel its own
    ("Humoral responses. (A) Mice were boosted with MVA. (B) Mice were primed with ChAd63. (C) Mice got protein. "
     "In all panels, IgG was measured. In (C), open symbols show two doses. ND, not done. The dotted line marks the "
     "threshold in (B). The same cut-off would apply in (A).",
     [S(["A"], "Mice were boosted with MVA. The same cut-off would apply in (A).", _HUMORAL),
      S(["B"], "Mice were primed with ChAd63. The dotted line marks the threshold in (B).", _HUMORAL),
      S(["C"], "Mice got protein. In (C), open symbols show two doses.", _HUMORAL)]),
    # 68 real (Epigenetics & Chromatin 1:8, Fig 1): ... also when it names them as "lanes A and B"
    ("Methylation in zygotes. Antibodies against: (A) 5meC; (B) H3K9me2 and (C) H3K4me3. The asymmetry is visible "
     "in lanes A and B. H3K4me3 signal (lane C) is in both pronuclei. Scale bar 20 \u03bcm.",
     [S(["A"], "5meC The asymmetry is visible in lanes A and B.", _ZYGOTES),
      S(["B"], "H3K9me2 The asymmetry is visible in lanes A and B.", _ZYGOTES),
      S(["C"], "H3K4me3. H3K4me3 signal (lane C) is in both pronuclei.", _ZYGOTES)]),
    # 69 real (Epigenetics & Chromatin 1:8, Fig 2): "Lane (A):" labels; "Panels: DNA – ..." describes the figure
    ("Rabbit zygotes. Lane (A): Example of an early zygote. The sperm is stained. Lane (B): Example of a PN2 zygote. "
     "Lane (C) shows a PN3 zygote. The signal differs. Panels: DNA \u2013 propidium iodide; 5meC \u2013 antibody. "
     "The arrows indicate sperm heads.",
     [S(["A"], "Example of an early zygote. The sperm is stained.", _RABBIT),
      S(["B"], "Example of a PN2 zygote.", _RABBIT),
      S(["C"], "shows a PN3 zygote. The signal differs.", _RABBIT)]),
    # 70 real (Epigenetics & Chromatin 1:8, Fig 5): "(B, n = 8) ..., (C, n = 2) ...": after a comma, a label opening
    # a parenthesis opens a segment; the rest of the parenthesis stays
    ("Polyclonal staining. (A) Zygotes and (B and C) NT embryos. (B, n = 8) Represents a loss, (C, n = 2) represents "
     "a lesser loss.",
     [S(["A"], "Zygotes", "Polyclonal staining."),
      S(["B"], "NT embryos. (n = 8) Represents a loss", "Polyclonal staining."),
      S(["C"], "NT embryos. (n = 2) represents a lesser loss.", "Polyclonal staining.")]),
    # 71 real (Case Reports in Genetics 2016:9814928, Fig 1): inline labels named out of order
    ("Photograph of child showing corneal opacity, microphthalmia (c, d), and incurvation of Tibia (a, b).",
     [S(["c", "d", "a", "b"],
        "Photograph of child showing corneal opacity, microphthalmia, and incurvation of Tibia.")]),
    # 72 real (Case Reports in Medicine 2016:1397434, Fig 3): the whole range named again is a reference, no member
    ("(a)\u2013(d) An enteric tube is placed. Opacities improved in sequential (a)\u2013(d) radiographs. (e) After "
     "extubation.",
     [S(["a", "b", "c", "d"], "An enteric tube is placed. Opacities improved in sequential (a)\u2013(d) radiographs."),
      S(["e"], "After extubation.")]),
    # 73 real (Journal of Diabetes Research 2016:2345141, Fig 6): capitals that start again inside each panel label
    # things in the panels, not panels
    ("(a) The retina (H&E). A: optic nerve disc. B\u2013D: points 500 \u03bcm apart. (b) The choroid. A: ILM. B: INL. "
     "C: sclera.",
     [S(["a"], "The retina (H&E). A: optic nerve disc. B\u2013D: points 500 \u03bcm apart."),
      S(["b"], "The choroid. A: ILM. B: INL. C: sclera.")]),
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
