// The new-subscriber form: a name, one or two phones and an optional first address.

import { post } from "../../api.js";
import { h, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { labelInput, submitting } from "./common.js";

export function createView(ctx) {
  const name = h("input", { name: "name", required: true, maxlength: 200, autocomplete: "off" });
  const phone = h("input", { name: "phone", required: true, maxlength: 40, inputmode: "tel", dir: "ltr" });
  const secondPhone = h("input", { name: "second_phone", maxlength: 40, inputmode: "tel", dir: "ltr" });
  const address = h("input", { name: "address", maxlength: 500 });
  const landmark = h("input", { name: "landmark", maxlength: 300 });
  const label = labelInput();
  const message = h("p", { class: "form-error", role: "alert" });
  const form = h("form", { class: "subs-form subs-create card", onsubmit: submitting(message, async () => {
    const body = {
      name: name.value,
      phones: [phone.value, secondPhone.value].filter((p) => p.trim()).map((number) => ({ number })),
      addresses: address.value.trim()
        ? [{ text: address.value, landmark: landmark.value.trim() || null, label: label.value.trim() }] : [],
    };
    const { subscriber } = await post("/api/subscribers", body);
    form.reset();
    toast(t("subs.create.done"), "ok");
    ctx.navigate(`#/subscribers/${subscriber.id}`);
  }) },
  h("h1", {}, t("subs.create.title")),
  h("label", {}, t("subs.name"), name),
  h("div", { class: "grid2" }, h("label", {}, t("subs.create.phone"), phone),
    h("label", {}, t("subs.create.second_phone"), secondPhone)),
  h("label", {}, t("subs.create.address"), address),
  h("div", { class: "grid2" }, h("label", {}, t("subs.address.landmark"), landmark),
    h("label", {}, t("subs.address.label"), label)),
  message,
  h("div", { class: "row subs-actions" }, h("button", { type: "submit", class: "primary" }, t("subs.create.submit"))));

  // `number` comes from the route (#/subscribers/new/<number>), for a caller who is not on file yet.
  function open(number) {
    message.textContent = "";
    if (number) phone.value = decodeURIComponent(number);
    (phone.value ? name : phone).focus();
  }

  return { el: form, open };
}
