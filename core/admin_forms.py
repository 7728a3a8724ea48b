"""Admin forms that ask for an explicit confirmation before a sensitive change."""

from django import forms


class ConfirmedChangeForm(forms.ModelForm):
    """A model form with a required "I confirm" box; subclasses set `confirmation`."""

    confirmation = "I confirm this change."
    confirm = forms.BooleanField(required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = self.confirmation
