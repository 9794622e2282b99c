"""The one data contract between the engine, the clients, the HTTP API and the components.

Importable without torch. One module per area; everything is re-exported here.
"""
from backend.schemas.common import (DEFAULT_EMBEDDING_MODEL, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL,
                                    MethodInfoBase, ModelInfo, ParameterInfo, Score)
from backend.schemas.text import (MAX_NEW_TOKENS, MAX_PROMPT_CHARS, MAX_TOP_K, Alternative, TextAnalysis,
                                  TextRequest, TokenScore)
from backend.schemas.sequence import (ALL_METHODS, DEFAULT_SAMPLES, DEFAULT_SIMILARITY_THRESHOLD, MAX_SAMPLES,
                                      MIN_SAMPLES, MeaningCluster, MeaningSource, MethodCost, MethodInfo,
                                      SampledAnswer, SequenceAnalysis, SequenceRequest, SequenceScore, TokenRelevance)
from backend.schemas.image import (MAX_CLASS_TOP_K, MAX_IMAGE_PIXELS, MAX_PASSES, MAX_SALIENCY_METHODS,
                                   MAX_UPLOAD_BYTES, SAMPLE_NAMES, ClassScore, ClassSpread, ImageAnalysis, ImageInfo,
                                   ImageInput, ImageMethodInfo, ImageMethods, ImageRequest,
                                   ImageUncertainty, SaliencyAnalysis, SaliencyMap, SaliencyRequest, SaliencySummary,
                                   UncertaintyRequest)
from backend.schemas.text_attention import (MAX_SEQUENCE_TOKENS, MAX_THUMBNAIL, MAX_WINDOW, AnalysedIds,
                                            AttentionMatrix, AttentionView, AttentionViewRequest, HeadGrid, InputToken,
                                            TextAttention, TextAttentionRequest)
from backend.schemas.text_saliency import (MAX_EXPLAINED_TOKENS, SaliencyCatalog, SaliencyMethodInfo,
                                           SaliencyRow, SaliencyTargetInfo, TextSaliency,
                                           TextSaliencyRequest)
from backend.schemas.audit import (BUILTIN_DIGITS, BUILTIN_QA, AuditCatalogEntry, AuditItem, AuditMethodCatalog,
                                   AuditMethodInfo, AuditRequest, AuditResult, MethodMetrics)
from backend.schemas.audit_compare import AuditComparison, AuditComparisonRequest, KeptAudit

__all__ = ["DEFAULT_EMBEDDING_MODEL", "DEFAULT_IMAGE_MODEL", "DEFAULT_TEXT_MODEL", "MAX_NEW_TOKENS", "MAX_PROMPT_CHARS",
           "MAX_TOP_K", "Alternative", "MethodInfoBase", "ModelInfo", "ParameterInfo", "Score", "TextAnalysis",
           "TextRequest", "TokenScore"]
__all__ += ["ALL_METHODS", "DEFAULT_SAMPLES", "DEFAULT_SIMILARITY_THRESHOLD", "MAX_SAMPLES", "MIN_SAMPLES",
            "MeaningCluster", "MeaningSource", "MethodCost", "MethodInfo", "SampledAnswer",
            "SequenceAnalysis", "SequenceRequest", "SequenceScore", "TokenRelevance"]
__all__ += ["MAX_CLASS_TOP_K", "MAX_IMAGE_PIXELS", "MAX_PASSES", "MAX_SALIENCY_METHODS", "MAX_UPLOAD_BYTES",
            "SAMPLE_NAMES", "ClassScore", "ClassSpread", "ImageAnalysis", "ImageInfo", "ImageInput", "ImageMethodInfo",
            "ImageMethods", "ImageRequest", "ImageUncertainty", "SaliencyAnalysis",
            "SaliencyMap", "SaliencyRequest", "SaliencySummary", "UncertaintyRequest"]
__all__ += ["MAX_SEQUENCE_TOKENS", "MAX_THUMBNAIL", "MAX_WINDOW", "AnalysedIds", "AttentionMatrix", "AttentionView",
            "AttentionViewRequest", "HeadGrid", "InputToken", "TextAttention", "TextAttentionRequest",
            "MAX_EXPLAINED_TOKENS", "SaliencyCatalog", "SaliencyMethodInfo", "SaliencyRow",
            "SaliencyTargetInfo", "TextSaliency", "TextSaliencyRequest"]
__all__ += ["BUILTIN_DIGITS", "BUILTIN_QA", "AuditCatalogEntry", "AuditItem", "AuditMethodCatalog", "AuditMethodInfo",
            "AuditRequest", "AuditResult", "MethodMetrics"]
__all__ += ["AuditComparison", "AuditComparisonRequest", "KeptAudit"]
