"""The paper's 12 medical imaging domains (section 3.2.1)."""

DOMAINS = (
    "ct", "mri", "xray", "ultrasound", "mammography", "surgery", "endoscopy",
    "dentistry", "dermatology", "ophthalmology", "histopathology", "illustration",
)
# Static domains use ffmpeg scene detection and narrative streaks; the rest PySceneDetect (appendix 7.2-7.3).
STATIC_DOMAINS = ("ct", "mri", "xray")
