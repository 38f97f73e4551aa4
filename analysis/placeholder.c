/* placeholder until the module's first source lands */
typedef int ls_analysis_placeholder_;
