"""Forms of the accounts app. Labels and messages in French, through gettext."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from bamara.organisations.models import Hospital, Profession, Site, SiteRole, User

from .models import RegistrationRequest, RegistrationStatus, rpps_validator

PASSWORD_HINT = _("Au moins 12 caractères ; ni trop courant, ni entièrement numérique, "
                  "ni proche de votre nom ou de votre adresse e-mail.")


def inactive_message(user: User) -> str:
    request: RegistrationRequest | None = getattr(user, "registration_request", None)
    if request is not None and request.status == RegistrationStatus.PENDING:
        text = gettext("Votre demande de compte est en attente de validation par le gestionnaire "
                       "de comptes de votre établissement. Vous recevrez un e-mail dès qu'elle "
                       "sera traitée.")
        if request.email_confirmed_at is None:
            text += " " + gettext("Pensez à confirmer votre adresse e-mail avec le lien reçu.")
        return text
    if request is not None and request.status == RegistrationStatus.REFUSED:
        return gettext("Votre demande de compte a été refusée. Pour plus d'informations, "
                       "contactez le gestionnaire de comptes de votre établissement.")
    return gettext("Votre compte est désactivé. Contactez le gestionnaire de comptes de votre "
                   "établissement.")


class LoginForm(AuthenticationForm):
    # Django's form names the field "username" whatever USERNAME_FIELD is; axes reads it so.
    username = forms.EmailField(
        label=_("Adresse e-mail"),
        help_text=_("Format attendu : nom@domaine.fr"),
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Mot de passe"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("Adresse e-mail ou mot de passe incorrect."),
        "inactive": _("Ce compte est désactivé."),
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()

    def get_invalid_login_error(self) -> ValidationError:
        # Say why the account is closed only to someone who knows its password, so that an
        # unknown address and a wrong password keep getting the same answer; and never while
        # locked out, or the lockout would still tell right passwords from wrong ones.
        if not getattr(self.request, "axes_locked_out", False):
            email = self.cleaned_data.get("username")
            password = self.cleaned_data.get("password")
            user = User.objects.filter(email=email, is_active=False).first()
            if user is not None and password and user.check_password(password):
                return ValidationError(inactive_message(user), code="inactive")
        return super().get_invalid_login_error()


class RppsField(forms.CharField):
    def to_python(self, value: Any) -> str:
        # People copy "10 10123 4567" from a card: keep the digits' order, drop the spacing.
        return "".join(super().to_python(value).split())


class SiteChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Site) -> str:
        return f"{obj.name} — {obj.filiere.acronym} ({obj.get_kind_display()}, {obj.code})"


def sites_of(hospital_id: Any) -> QuerySet[Site]:
    if not str(hospital_id or "").isdigit():
        return Site.objects.none()
    return (Site.objects.filter(hospital_id=int(hospital_id), active=True)
            .select_related("filiere").order_by("name", "code"))


def registration_hospitals() -> QuerySet[Hospital]:
    return Hospital.objects.filter(sites__active=True).distinct().order_by("name")


class RegistrationForm(forms.Form):
    first_name = forms.CharField(
        label=_("Prénom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label=_("Nom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(
        label=_("Adresse e-mail professionnelle"),
        help_text=_("Format attendu : nom@domaine.fr. Un lien de confirmation y sera envoyé."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    profession = forms.ChoiceField(
        label=_("Profession"),
        choices=[("", _("Sélectionner une profession")), *Profession.choices],
    )
    rpps = RppsField(
        label=_("Numéro RPPS"), required=False, validators=[rpps_validator],
        help_text=_("11 chiffres, obligatoire pour les médecins."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    hospital = forms.ModelChoiceField(
        label=_("Établissement"), queryset=Hospital.objects.none(),
        empty_label=_("Sélectionner un établissement"),
    )
    sites = SiteChoiceField(
        label=_("Sites maladies rares demandés"), queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Le gestionnaire de comptes de l'établissement attribue les accès."),
        error_messages={"invalid_choice": _("Choisissez des sites de l'établissement indiqué.")},
    )
    message = forms.CharField(
        label=_("Message au gestionnaire de comptes"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Votre fonction dans le centre, le nom du médecin responsable…"),
    )
    password1 = forms.CharField(
        label=_("Mot de passe"), strip=False, help_text=PASSWORD_HINT,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"), strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hospital"].queryset = registration_hospitals()
        # The sites offered are those of the hospital chosen (in the data, else the initial).
        if self.is_bound:
            hospital_id = self.data.get(self.add_prefix("hospital"))
        else:
            hospital_id = self.initial.get("hospital")
        self.fields["sites"].queryset = sites_of(hospital_id)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("profession") == Profession.PHYSICIAN and not data.get("rpps") \
                and "rpps" not in self.errors:
            self.add_error("rpps", gettext("Le numéro RPPS est obligatoire pour les médecins."))
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", gettext("Les deux mots de passe ne sont pas identiques."))
        elif password1:
            candidate = User(email=data.get("email") or "", first_name=data.get("first_name") or "",
                             last_name=data.get("last_name") or "")
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


ROLE_CHOICES = [("", _("Aucun accès")), *SiteRole.choices]


class SiteRolesForm(forms.Form):
    """One role select per site the manager may grant (his hospital's sites)."""

    def __init__(self, *args: Any, sites: list[Site], member: User,
                 initial_roles: dict[int, str], require_one: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sites = sites
        self.member = member
        self.require_one = require_one
        for site in sites:
            self.fields[f"site_{site.pk}"] = forms.ChoiceField(
                label=gettext("Rôle sur le site %(site)s") % {"site": site.name},
                choices=ROLE_CHOICES, required=False, initial=initial_roles.get(site.pk, ""),
            )

    def rows(self) -> list[tuple[Site, forms.BoundField]]:
        return [(site, self[f"site_{site.pk}"]) for site in self.sites]

    def roles(self) -> dict[Site, str]:
        return {site: self.cleaned_data.get(f"site_{site.pk}") or "" for site in self.sites}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        granted = [role for role in self.roles().values() if role]
        if granted and self.member.is_national_team:
            raise ValidationError(gettext("L'équipe nationale n'a aucun accès nominatif : "
                                          "pas de rôle sur un site."))
        if self.require_one and not granted:
            raise ValidationError(gettext("Attribuez un rôle sur au moins un site pour activer "
                                          "le compte."))
        return data


class RefusalForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        help_text=_("Il est communiqué à la personne par e-mail."),
    )


class ProfileForm(forms.ModelForm):
    rpps = RppsField(label=_("Numéro RPPS"), required=False, validators=[rpps_validator],
                     help_text=_("11 chiffres."),
                     widget=forms.TextInput(attrs={"inputmode": "numeric"}))

    class Meta:
        model = User
        fields = ["first_name", "last_name", "profession", "rpps"]
        labels = {"first_name": _("Prénom"), "last_name": _("Nom")}
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
        }


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code de vérification"),
        help_text=_("Les 6 chiffres affichés par votre application d'authentification."),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9 ]*"}),
    )

    def __init__(self, *args: Any, device: TOTPDevice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not (token.isdigit() and len(token) == 6):
            raise ValidationError(gettext("Saisissez les 6 chiffres du code."))
        allowed, _info = self.device.verify_is_allowed()
        if not allowed:
            # django-otp slows down guessing: each wrong code doubles the wait.
            raise ValidationError(gettext("Trop de codes erronés : patientez quelques instants "
                                          "avant de réessayer."))
        if not self.device.verify_token(token):
            raise ValidationError(gettext("Code incorrect ou expiré."))
        return token


class EmailPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label=_("Adresse e-mail"), max_length=254,
        help_text=_("Format attendu : nom@domaine.fr"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
