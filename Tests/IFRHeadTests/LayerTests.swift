import IFRHead
import Testing
