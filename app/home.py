"""Home: what UQ Lens is, and examples to open in one click."""
import streamlit as st

from app.examples import EXAMPLES, open_example

st.title("UQ Lens")
st.markdown(
    "See **how sure a language model is, token by token, and where it hesitates.** UQ Lens runs the model, "
    "then colours every token of the answer by the model's own probability, entropy, surprisal or rank, and "
    "shows the alternatives it weighed at each step. Everything runs locally on the embedded default model "
    "(SmolLM2-135M-Instruct); no data leaves this machine.")

st.subheader("Try an example")
columns = st.columns(len(EXAMPLES))
for index, (column, example) in enumerate(zip(columns, EXAMPLES)):
    with column.container(border=True):
        st.markdown(f"**{example.title}**")
        st.text(example.prompt)
        st.caption(example.lesson)
        if st.button("Open", key=f"home_example_{index}", type="primary"):
            open_example(example)

st.subheader("What else is here")
st.markdown(
    "- **Sequence uncertainty**: one score per answer from the literature (semantic entropy, SAR, EigV, P(True), "
    "...), each shown with how it was computed.\n"
    "- **Side by side**: two models, or two settings, on one prompt, each scoring the other's answer.\n"
    "- **Attention & saliency**: where the model looked, and which input tokens drive an answer token.\n"
    "- **Image**: an ImageNet classifier's top classes, MC dropout vs. test-time augmentation, and saliency "
    "overlays.\n"
    "- **Calibration & audits**: reliability diagrams, ECE, AUROC and risk-coverage over a whole dataset.\n"
    "- **Imported logs**: answers produced elsewhere with log-probabilities (OpenAI, vLLM), no model run.\n"
    "- **Saved**: every analysis you saved, to reopen, compare, link to and export.")

st.subheader("How to read the numbers")
st.markdown(
    "- **Probability**: the model's probability for the token it wrote (softmax of its logits at the "
    "temperature shown). Higher = more confident.\n"
    "- **Entropy** (nats): how spread out the next-token distribution is. 0 = one option; ln 2 ≈ 0.69 = a coin "
    "toss between two. Higher = more uncertain.\n"
    "- **Surprisal** (nats): −ln p of the written token. **Rank**: 1 = the model's own first choice.\n"
    "- Sequence summaries (mean and geometric-mean probability, mean and max entropy, perplexity) condense the "
    "answer into one number each; every card says which way is good.")
